package io.rolloutfarm.cli.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The report folder of a local run: per-step metrics as JSONL (appended as steps finish, so a
 * crashed run keeps what it measured) and, on {@link #finish}, the same rows as CSV, PNG plots and
 * {@code summary.json}.
 */
public final class RunReport implements AutoCloseable {
  /** Metric keys the report knows how to plot and summarise. */
  public static final String REWARD_MEAN = "reward_mean";

  public static final String ACCURACY = "accuracy";
  public static final String TOOL_CALLS = "tool_calls_per_trajectory";
  public static final String TRAJECTORIES_PER_S = "trajectories_per_s";
  public static final String HELDOUT_ACCURACY = "heldout_accuracy";
  public static final String FILTER_RATIO_PREFIX = "filter_ratio_";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper JSONL = new ObjectMapper();

  private final Path dir;
  private final BufferedWriter jsonl;
  private final List<StepRow> rows = new ArrayList<>();

  /** One step's metrics. Step 0 holds evaluations made before RL (after the warm-up). */
  public record StepRow(long step, Map<String, Double> metrics) {}

  /** Opens (or continues, on resume) the report in {@code dir}. */
  public RunReport(Path dir) throws IOException {
    this.dir = Files.createDirectories(dir);
    Path metrics = dir.resolve("metrics.jsonl");
    if (Files.exists(metrics)) {
      for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          rows.add(fromJson(line));
        }
      }
    }
    this.jsonl =
        Files.newBufferedWriter(
            metrics, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  public Path dir() {
    return dir;
  }

  public List<StepRow> rows() {
    return List.copyOf(rows);
  }

  /** Records one step and appends it to metrics.jsonl right away. */
  public synchronized void record(long step, Map<String, Double> metrics) {
    StepRow row = new StepRow(step, new LinkedHashMap<>(metrics));
    // A resumed run replays no step twice: drop rows at or after the resumed step.
    rows.removeIf(r -> r.step() >= step && !(step == 0 && r.step() == 0));
    rows.add(row);
    try {
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("step", step);
      line.putAll(row.metrics());
      jsonl.write(JSONL.writeValueAsString(line));
      jsonl.newLine();
      jsonl.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve("metrics.jsonl"), e);
    }
  }

  /** Writes metrics.csv, the plots and summary.json; returns the summary. */
  public synchronized Summary finish(double wallSeconds) throws IOException {
    writeCsv();
    new ReportPlots(dir).write(rows);
    Summary summary = Summary.of(rows, wallSeconds);
    JSON.writeValue(dir.resolve("summary.json").toFile(), summary.asMap());
    return summary;
  }

  @Override
  public void close() throws IOException {
    jsonl.close();
  }

  private void writeCsv() throws IOException {
    TreeSet<String> columns = new TreeSet<>();
    rows.forEach(r -> columns.addAll(r.metrics().keySet()));
    StringBuilder csv = new StringBuilder("step");
    columns.forEach(c -> csv.append(',').append(c));
    csv.append('\n');
    for (StepRow r : rows) {
      csv.append(r.step());
      for (String c : columns) {
        Double v = r.metrics().get(c);
        csv.append(',').append(v == null ? "" : formatNumber(v));
      }
      csv.append('\n');
    }
    Files.writeString(dir.resolve("metrics.csv"), csv, StandardCharsets.UTF_8);
  }

  private static String formatNumber(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  @SuppressWarnings("unchecked")
  private static StepRow fromJson(String line) throws IOException {
    Map<String, Object> map = JSONL.readValue(line, Map.class);
    long step = ((Number) map.remove("step")).longValue();
    Map<String, Double> metrics = new LinkedHashMap<>();
    map.forEach((k, v) -> metrics.put(k, ((Number) v).doubleValue()));
    return new StepRow(step, metrics);
  }
}

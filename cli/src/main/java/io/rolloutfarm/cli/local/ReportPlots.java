package io.rolloutfarm.cli.local;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG line plots of a run's metrics over RL steps. */
final class ReportPlots {
  static {
    // Plots are drawn off-screen; never try to open a display.
    System.setProperty("java.awt.headless", "true");
  }

  private final Path dir;

  ReportPlots(Path dir) {
    this.dir = dir;
  }

  /** Writes every plot that has data; returns the files written. */
  List<Path> write(List<RunReport.StepRow> rows) throws IOException {
    List<Path> written = new ArrayList<>();
    plot(
            rows,
            "reward",
            "Reward and rollout accuracy",
            "reward",
            k -> k.equals(RunReport.REWARD_MEAN) || k.equals(RunReport.ACCURACY))
        .ifPresent(written::add);
    plot(
            rows,
            "heldout_accuracy",
            "Held-out accuracy",
            "accuracy (0-1)",
            k -> k.equals(RunReport.HELDOUT_ACCURACY))
        .ifPresent(written::add);
    plot(
            rows,
            "tool_calls",
            "Tool calls per trajectory",
            "tool calls",
            k -> k.equals(RunReport.TOOL_CALLS))
        .ifPresent(written::add);
    plot(
            rows,
            "filter_ratios",
            "Groups filtered, by reason (fraction of groups)",
            "fraction",
            k -> k.startsWith(RunReport.FILTER_RATIO_PREFIX))
        .ifPresent(written::add);
    plot(
            rows,
            "trajectories_per_s",
            "Rollout throughput",
            "trajectories/s",
            k -> k.equals(RunReport.TRAJECTORIES_PER_S))
        .ifPresent(written::add);
    return written;
  }

  private java.util.Optional<Path> plot(
      List<RunReport.StepRow> rows,
      String file,
      String title,
      String yTitle,
      Predicate<String> keys)
      throws IOException {
    TreeSet<String> names = new TreeSet<>();
    rows.forEach(r -> r.metrics().keySet().stream().filter(keys).forEach(names::add));
    Map<String, List<double[]>> series = new LinkedHashMap<>();
    for (String name : names) {
      List<double[]> points = new ArrayList<>();
      for (RunReport.StepRow r : rows) {
        Double v = r.metrics().get(name);
        if (v != null && Double.isFinite(v)) {
          points.add(new double[] {r.step(), v});
        }
      }
      if (!points.isEmpty()) {
        series.put(name, points);
      }
    }
    if (series.isEmpty()) {
      return java.util.Optional.empty();
    }
    XYChart chart =
        new XYChartBuilder()
            .width(800)
            .height(450)
            .title(title)
            .xAxisTitle("step")
            .yAxisTitle(yTitle)
            .build();
    chart.getStyler().setLegendVisible(series.size() > 1);
    series.forEach(
        (name, points) -> {
          XYSeries s =
              chart.addSeries(
                  name.startsWith(RunReport.FILTER_RATIO_PREFIX)
                      ? name.substring(RunReport.FILTER_RATIO_PREFIX.length())
                      : name,
                  points.stream().mapToDouble(p -> p[0]).toArray(),
                  points.stream().mapToDouble(p -> p[1]).toArray());
          s.setMarker(points.size() <= 20 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        });
    Path out = dir.resolve(file + ".png");
    BitmapEncoder.saveBitmap(chart, out.toString(), BitmapEncoder.BitmapFormat.PNG);
    return java.util.Optional.of(out);
  }
}

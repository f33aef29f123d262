package io.rolloutfarm.learner.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rolloutfarm.proto.PythonPaths;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the engine's own throughput benchmark ({@code python3 -m rolloutfarm_engine.bench --json})
 * in a fresh process and reads its figures: train-step and sample tokens/s (medians), the unbatched
 * sampling baseline, the device and, on CUDA, the model FLOP utilisation.
 */
public final class EngineBenchmark {

  /**
   * What the engine measures.
   *
   * @param model {@code builtin[:JSON]} or a weights path
   * @param device {@code auto}, {@code cpu} or {@code cuda}
   * @param threads CPU threads (0: every core)
   * @param batch sequences per sample call and per train step
   * @param promptTokens prompt length of each sample request
   * @param newTokens tokens generated per request
   * @param trainTokens tokens per training sequence
   * @param repeats timed repetitions; medians are reported
   * @param timeout how long the engine process may run
   */
  public record Options(
      String model,
      String device,
      int threads,
      int batch,
      int promptTokens,
      int newTokens,
      int trainTokens,
      int repeats,
      Duration timeout) {

    List<String> argv() {
      List<String> argv = new ArrayList<>();
      argv.addAll(List.of(PythonPaths.interpreter(), "-m", "rolloutfarm_engine.bench", "--json"));
      argv.addAll(List.of("--model", model, "--device", device));
      argv.addAll(List.of("--threads", Integer.toString(threads)));
      argv.addAll(List.of("--batch", Integer.toString(batch)));
      argv.addAll(List.of("--prompt-tokens", Integer.toString(promptTokens)));
      argv.addAll(List.of("--new-tokens", Integer.toString(newTokens)));
      argv.addAll(List.of("--train-tokens", Integer.toString(trainTokens)));
      argv.addAll(List.of("--repeats", Integer.toString(repeats)));
      return argv;
    }
  }

  private final Options options;

  public EngineBenchmark(Options options) {
    this.options = options;
  }

  /** Runs the engine benchmark; the figures as the engine wrote them (numbers and strings). */
  public Map<String, Object> run() throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(options.argv());
    pb.environment()
        .put(
            "PYTHONPATH",
            PythonPaths.protoPythonDir()
                + java.io.File.pathSeparator
                + PythonPaths.sourceDir("learner"));
    pb.environment().put("ROLLOUTFARM_DESCRIPTOR_SET", PythonPaths.descriptorSet().toString());
    pb.redirectErrorStream(true);
    Process process = pb.start();
    byte[][] output = new byte[1][];
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (InputStream in = process.getInputStream()) {
                    output[0] = in.readAllBytes();
                  } catch (IOException e) {
                    output[0] = ("cannot read engine output: " + e).getBytes();
                  }
                });
    if (!process.waitFor(options.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new IOException(
          "engine benchmark did not finish within "
              + options.timeout().toSeconds()
              + "s (command: "
              + String.join(" ", options.argv())
              + ")");
    }
    reader.join();
    String text = new String(output[0], StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IOException(
          "engine benchmark failed (exit "
              + process.exitValue()
              + ", command: "
              + String.join(" ", options.argv())
              + "):\n"
              + tail(text));
    }
    String[] lines = text.strip().split("\n");
    try {
      return new ObjectMapper()
          .readValue(lines[lines.length - 1], new TypeReference<Map<String, Object>>() {});
    } catch (IOException e) {
      throw new IOException("engine benchmark printed no JSON figures:\n" + tail(text), e);
    }
  }

  private static String tail(String text) {
    return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
  }
}

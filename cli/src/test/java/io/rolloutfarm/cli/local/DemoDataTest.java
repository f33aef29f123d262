package io.rolloutfarm.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.api.v1alpha1.RunFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's data is made once and reused, and made again when it came from another version of the
 * suite generator or of the demonstration writer, or from another prompt.
 */
class DemoDataTest {
  private static final String RUN =
      """
      apiVersion: rolloutfarm.io/v1alpha1
      kind: TrainingRun
      metadata:
        name: demo-data-test
      spec:
        totalSteps: 1
        model:
          builtin: tiny
        dataset:
          path: suite/train.jsonl
        warmup:
          steps: 1
          demonstrationsPath: suite/demonstrations.jsonl
        algorithm:
          prompts:
            imageTemplate: prompt.txt
        sandbox:
          template:
            minReplicas: 1
            sessionsPerPod: 4
      """;

  @TempDir Path dir;

  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

  private String ensure(DemoData data, RunFile run) throws Exception {
    printed.reset();
    data.ensure(run, dir.resolve("work"), new PrintStream(printed, true, StandardCharsets.UTF_8));
    return printed.toString(StandardCharsets.UTF_8);
  }

  /** Marks a file as old, so that rewriting it shows in its modification time. */
  private Path aged(Path file) throws Exception {
    Files.setLastModifiedTime(file, FileTime.fromMillis(0));
    return file;
  }

  @Test
  void dataIsReusedAndMadeAgainWhenWhatItWasMadeFromChanged() throws Exception {
    Files.writeString(
        dir.resolve("prompt.txt"),
        "=== system ===\nAnswer.\n=== user ===\n{{images}}{{question}}\n");
    Files.writeString(dir.resolve("run.yaml"), RUN);
    RunFile run = RunCommand.load(dir.resolve("run.yaml"));
    DemoData data = new DemoData(dir.resolve("suite"), 6, 2, 3, List.of("compare"), 0.5);
    Path train = dir.resolve("suite/train.jsonl");

    assertThat(ensure(data, run)).contains("generating the synthetic suite");
    assertThat(Files.readAllLines(data.provenance()))
        .containsExactly(
            data.suiteFingerprint(), data.demonstrationsFingerprint(data.suiteFingerprint(), run));

    // Same versions and settings: nothing is made again.
    aged(train);
    aged(data.demonstrations());
    assertThat(ensure(data, run)).isEmpty();
    assertThat(Files.getLastModifiedTime(train).toMillis()).isZero();
    assertThat(Files.getLastModifiedTime(data.demonstrations()).toMillis()).isZero();

    // Another prompt: the demonstrations are written again, the suite is kept.
    Files.writeString(
        dir.resolve("prompt.txt"),
        "=== system ===\nThink.\n=== user ===\n{{images}}{{question}}\n");
    assertThat(ensure(data, run)).contains("writing them again");
    assertThat(Files.getLastModifiedTime(train).toMillis()).isZero();
    assertThat(Files.getLastModifiedTime(data.demonstrations()).toMillis()).isPositive();

    // Data from a farm that recorded nothing (or another generator): all of it is made again.
    Files.delete(data.provenance());
    aged(data.demonstrations());
    assertThat(ensure(data, run)).contains("making it again").contains("generating");
    assertThat(Files.getLastModifiedTime(train).toMillis()).isPositive();
    assertThat(Files.getLastModifiedTime(data.demonstrations()).toMillis()).isPositive();
    assertThat(Files.readAllLines(data.provenance())).hasSize(2);
  }
}

package io.rolloutfarm.learner.testing;

import io.rolloutfarm.api.v1alpha1.RunFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes small TrainingRun files with datasets for learner tests. */
public final class RunFiles {
  private RunFiles() {}

  /** A dataset of {@code prompts} text-only prompts p0..pN in {@code dir/data/train.jsonl}. */
  public static void dataset(Path dir, int prompts) throws IOException {
    Files.createDirectories(dir.resolve("data"));
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < prompts; i++) {
      lines.append(
          String.format(
              "{\"id\": \"p%d\", \"question\": \"what is %d?\", \"answer\": \"%d\", \"family\": \"f%d\"}%n",
              i, i, i, i % 2));
    }
    Files.writeString(dir.resolve("data/train.jsonl"), lines);
    Files.writeString(
        dir.resolve("data/eval.jsonl"),
        "{\"id\": \"e0\", \"question\": \"held out?\", \"answer\": \"yes\"}\n");
    Files.writeString(
        dir.resolve("data/demos.jsonl"),
        "{\"id\": \"d0\", \"segments\": [{\"text\": \"what is 1?\"}, {\"text\": \"1\", \"train\": true}]}\n");
  }

  /** A run file in {@code dir} using {@link #dataset}; {@code extraSpec} is indented YAML. */
  public static RunFile write(Path dir, int totalSteps, String algorithm, String extraSpec)
      throws IOException {
    Path file = dir.resolve("run.yaml");
    Files.writeString(
        file,
        """
        apiVersion: rolloutfarm.io/v1alpha1
        kind: TrainingRun
        metadata:
          name: test-run
        spec:
          totalSteps: %d
          seed: 11
          dataset:
            path: data/train.jsonl
            evalPath: data/eval.jsonl
          algorithm:
        %s
          checkpoint:
            path: ckpt
            everySteps: 2
            keep: 2
        %s
        """
            .formatted(
                totalSteps,
                algorithm.indent(4).stripTrailing(),
                extraSpec.indent(2).stripTrailing()));
    return RunFile.load(file);
  }
}

package io.rolloutfarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ValidateCommandTest {

  private record Run(int exitCode, String out, String err) {}

  private static Run validate(Path file) {
    CommandLine cl = FarmCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute("validate", file.toString());
    return new Run(code, out.toString(), err.toString());
  }

  private static final String RUN =
      """
      apiVersion: rolloutfarm.io/v1alpha1
      kind: TrainingRun
      metadata:
        name: demo
      spec:
        totalSteps: 50
        dataset:
          path: data/train.jsonl
        algorithm:
          trainBatchSize: 8
      """;

  @Test
  void aValidRunPrintsOneOkLine(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("run.yaml"), RUN);
    Run r = validate(f);
    assertThat(r.exitCode()).isZero();
    assertThat(r.out().lines()).hasSize(1);
    assertThat(r.out()).startsWith("OK: " + f + ": TrainingRun demo (50 steps");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void anInvalidRunNamesEveryOffendingField(@TempDir Path dir) throws Exception {
    Path f =
        Files.writeString(
            dir.resolve("bad.yaml"),
            RUN.replace("trainBatchSize: 8", "trainBatchSize: 64\n    groupSize: 1"));
    Run r = validate(f);
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .contains(
            f
                + ": spec.algorithm.trainBatchSize: must be ≤ spec.algorithm.oversampleBatchSize (32)")
        .contains(f + ": spec.algorithm.groupSize: must be ≥ 2 (got 1)")
        .contains("2 problems");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void poolsAreValidatedToo(@TempDir Path dir) throws Exception {
    String pool =
        """
        apiVersion: rolloutfarm.io/v1alpha1
        kind: SandboxPool
        metadata:
          name: shared
        spec:
          minReplicas: 6
          maxReplicas: 3
        """;
    Run bad = validate(Files.writeString(dir.resolve("pool.yaml"), pool));
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).contains("spec.minReplicas: must be ≤ spec.maxReplicas (3)");
    Run ok =
        validate(
            Files.writeString(
                dir.resolve("ok.yaml"), pool.replace("maxReplicas: 3", "maxReplicas: 9")));
    assertThat(ok.exitCode()).isZero();
    assertThat(ok.out()).startsWith("OK: ").contains("SandboxPool shared (6..9 pods");
  }

  @Test
  void parseErrorsAndUnknownKindsNameFileAndField(@TempDir Path dir) throws Exception {
    Run typo =
        validate(Files.writeString(dir.resolve("t.yaml"), RUN.replace("totalSteps", "totalStep")));
    assertThat(typo.exitCode()).isEqualTo(1);
    assertThat(typo.err()).contains("t.yaml: spec.totalStep: unknown field");
    Run pod =
        validate(
            Files.writeString(dir.resolve("p.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {}\n"));
    assertThat(pod.exitCode()).isEqualTo(1);
    assertThat(pod.err()).contains("p.yaml: kind: expected TrainingRun or SandboxPool, found Pod");
    Run missing = validate(dir.resolve("nope.yaml"));
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).contains("nope.yaml: no such file");
  }
}

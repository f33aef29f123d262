package io.rolloutfarm.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunFileTest {

  private static final String MINIMAL =
      """
      apiVersion: rolloutfarm.io/v1alpha1
      kind: TrainingRun
      metadata:
        name: quick
      spec:
        totalSteps: 20
        dataset:
          path: data/train.jsonl
        algorithm:
          groupSize: 4
          surplus: CarryOver
      """;

  @Test
  void loadsAFileKeepingDefaultsForWhatItLeavesOut(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("run.yaml");
    Files.writeString(file, MINIMAL);
    RunFile rf = RunFile.load(file);

    TrainingRunSpec spec = rf.run().getSpec();
    assertThat(rf.name()).isEqualTo("quick");
    assertThat(spec.totalSteps).isEqualTo(20);
    assertThat(spec.algorithm.groupSize).isEqualTo(4);
    assertThat(spec.algorithm.surplus).isEqualTo(AlgorithmSpec.SurplusPolicy.CarryOver);
    // Paper defaults for everything not written down.
    assertThat(spec.algorithm.oversampleBatchSize).isEqualTo(32);
    assertThat(spec.algorithm.clipLow).isEqualTo(0.2);
    assertThat(spec.algorithm.reward.toolBonus).isEqualTo(0.1);
    assertThat(spec.algorithm.maxTurns).isEqualTo(5);
    assertThat(spec.model.builtin).isEqualTo("tiny");
    assertThat(rf.resolve(spec.dataset.path)).isEqualTo(dir.resolve("data/train.jsonl"));
    assertThat(rf.resolve("/abs/x.jsonl")).isEqualTo(Path.of("/abs/x.jsonl"));
  }

  @Test
  void unknownFieldsAreNamedWithTheirPath() {
    String yaml = MINIMAL.replace("groupSize: 4", "groupSize: 4\n    gropuSize: 5");
    assertThatThrownBy(() -> RunFile.parse("run.yaml", yaml))
        .isInstanceOf(RunFile.InvalidRunFileException.class)
        .hasMessageStartingWith("run.yaml: spec.algorithm.gropuSize: unknown field")
        .hasMessageContaining("groupSize");
  }

  @Test
  void badEnumValuesAndTypesNameTheField() {
    assertThatThrownBy(
            () -> RunFile.parse("r.yaml", MINIMAL.replace("CarryOver", "KeepEverything")))
        .hasMessageStartingWith("r.yaml: spec.algorithm.surplus:")
        .hasMessageContaining("KeepEverything");
    assertThatThrownBy(() -> RunFile.parse("r.yaml", MINIMAL.replace("20", "twenty")))
        .hasMessageStartingWith("r.yaml: spec.totalSteps:");
  }

  @Test
  void wrongKindAndMissingFilesAreReported(@TempDir Path dir) {
    assertThatThrownBy(
            () -> RunFile.parse("p.yaml", MINIMAL.replace("kind: TrainingRun", "kind: Pod")))
        .hasMessage("p.yaml: kind: expected TrainingRun, found Pod");
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> RunFile.load(missing)).hasMessage(missing + ": no such file");
  }

  @Test
  void yamlRoundTripKeepsTheSpec() throws Exception {
    TrainingRun run = RunFile.parse("a", MINIMAL);
    TrainingRun again = RunFile.parse("b", RunFile.toYaml(run));
    assertThat(again.getSpec()).usingRecursiveComparison().isEqualTo(run.getSpec());
    assertThat(again.getMetadata().getName()).isEqualTo("quick");
  }
}

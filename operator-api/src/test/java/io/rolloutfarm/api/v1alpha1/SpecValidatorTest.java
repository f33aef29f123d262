package io.rolloutfarm.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SpecValidatorTest {

  private static final String RUN =
      """
      apiVersion: rolloutfarm.io/v1alpha1
      kind: TrainingRun
      metadata:
        name: quick
      spec:
        totalSteps: 20
        dataset:
          path: data/train.jsonl
      """;

  private static final String POOL =
      """
      apiVersion: rolloutfarm.io/v1alpha1
      kind: SandboxPool
      metadata:
        name: shared
      spec:
        minReplicas: 2
        maxReplicas: 8
      """;

  @Test
  void aMinimalRunIsValid() throws Exception {
    assertThat(SpecValidator.validate(RunFile.parse("r", RUN))).isEmpty();
  }

  @Test
  void crossFieldRulesNameBothFields() throws Exception {
    TrainingRun run = RunFile.parse("r", RUN);
    run.getSpec().algorithm.trainBatchSize = 40;
    run.getSpec().sandbox.template.minReplicas = 9;
    assertThat(SpecValidator.validate(run))
        .extracting(Violation::toString)
        .containsExactlyInAnyOrder(
            "spec.algorithm.trainBatchSize: must be ≤ spec.algorithm.oversampleBatchSize (32)",
            "spec.sandbox.template.minReplicas: must be ≤ spec.sandbox.template.maxReplicas (4)");
  }

  @Test
  void rangesAndRequiredFieldsComeFromTheSchemaAnnotations() throws Exception {
    TrainingRun run = RunFile.parse("r", RUN);
    run.getSpec().totalSteps = null;
    run.getSpec().dataset.path = " ";
    run.getSpec().algorithm.groupSize = 1;
    run.getSpec().algorithm.topP = 1.5;
    run.getSpec().algorithm.learningRate = 0;
    run.getSpec().sandbox.template.targetUtilization = 0;
    assertThat(SpecValidator.validate(run))
        .extracting(Violation::toString)
        .containsExactlyInAnyOrder(
            "spec.totalSteps: required",
            "spec.dataset.path: required",
            "spec.algorithm.groupSize: must be ≥ 2 (got 1)",
            "spec.algorithm.topP: must be ≤ 1 (got 1.5)",
            "spec.algorithm.learningRate: must be > 0 (got 0)",
            "spec.sandbox.template.targetUtilization: must be > 0 (got 0)");
  }

  @Test
  void weightsClaimNeedsAPathAndNamesMustFitChildNames() throws Exception {
    TrainingRun run = RunFile.parse("r", RUN);
    run.getSpec().model.weightsClaimName = "weights";
    run.getMetadata().setName("A-very-long-name-that-will-not-fit-into-pod-names");
    run.getSpec().sandbox.poolRef = "Not_A_Name";
    assertThat(SpecValidator.validate(run))
        .extracting(Violation::field)
        .containsExactlyInAnyOrder(
            "spec.model.weightsPath", "metadata.name", "spec.sandbox.poolRef");
  }

  @Test
  void poolsAreParsedAndValidatedWithTheSameRules() throws Exception {
    SandboxPool pool = ResourceYaml.parse("p.yaml", POOL, SandboxPool.class);
    assertThat(SpecValidator.validate(pool)).isEmpty();
    assertThat(pool.getSpec().sessionsPerPod).isEqualTo(16);
    pool.getSpec().minReplicas = 10;
    pool.getSpec().maxStepFactor = 1;
    assertThat(SpecValidator.validate(pool))
        .extracting(Violation::toString)
        .containsExactlyInAnyOrder(
            "spec.minReplicas: must be ≤ spec.maxReplicas (8)",
            "spec.maxStepFactor: must be > 1 (got 1)");
    assertThat(ResourceYaml.kindOf("p.yaml", POOL)).isEqualTo("SandboxPool");
    assertThatThrownBy(() -> ResourceYaml.parse("p.yaml", POOL, TrainingRun.class))
        .hasMessage("p.yaml: kind: expected TrainingRun, found SandboxPool");
    assertThatThrownBy(
            () -> ResourceYaml.parse("p.yaml", POOL + "  sesionsPerPod: 3\n", SandboxPool.class))
        .hasMessageStartingWith("p.yaml: spec.sesionsPerPod: unknown field");
  }
}

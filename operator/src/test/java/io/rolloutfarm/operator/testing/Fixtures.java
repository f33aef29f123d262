package io.rolloutfarm.operator.testing;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.rolloutfarm.api.v1alpha1.ResourceYaml;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import java.util.Map;
import java.util.UUID;

/** Resources for tests. */
public final class Fixtures {
  private Fixtures() {}

  public static final String RUN_YAML =
      """
      apiVersion: rolloutfarm.io/v1alpha1
      kind: TrainingRun
      metadata:
        name: NAME
        namespace: NAMESPACE
      spec:
        totalSteps: 10
        dataset:
          path: /data/train.jsonl
          claimName: datasets
        learner:
          gpusPerPod: 2
          runtimeClassName: nvidia
        rolloutWorkers:
          replicas: 2
          concurrency: 32
        sandbox:
          template:
            minReplicas: 1
            maxReplicas: 6
            sessionsPerPod: 8
        checkpoint:
          claimName: checkpoints
      """;

  /** A run as the API server would hand it over (uid, generation 1). */
  public static TrainingRun run(String name, String namespace) {
    try {
      TrainingRun run =
          RunFile.parse("test", RUN_YAML.replace("NAMESPACE", namespace).replace("NAME", name));
      run.getMetadata().setUid(UUID.randomUUID().toString());
      run.getMetadata().setGeneration(1L);
      return run;
    } catch (RunFile.InvalidRunFileException e) {
      throw new IllegalStateException(e);
    }
  }

  public static SandboxPool pool(String name, String namespace, String specYaml) {
    try {
      SandboxPool pool =
          ResourceYaml.parse(
              "test",
              "apiVersion: rolloutfarm.io/v1alpha1\nkind: SandboxPool\nmetadata:\n  name: "
                  + name
                  + "\n  namespace: "
                  + namespace
                  + "\nspec:\n"
                  + specYaml.indent(2),
              SandboxPool.class);
      pool.getMetadata().setUid(UUID.randomUUID().toString());
      pool.getMetadata().setGeneration(1L);
      return pool;
    } catch (RunFile.InvalidRunFileException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A running, ready pod with the given labels and IP. */
  public static Pod readyPod(String name, String namespace, Map<String, String> labels) {
    return new PodBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(namespace)
                .withLabels(labels)
                .build())
        .withNewStatus()
        .withPhase("Running")
        .withPodIP("10.0.0." + Math.abs(name.hashCode() % 250))
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .endCondition()
        .endStatus()
        .build();
  }
}

package io.rolloutfarm.operator;

import io.rolloutfarm.api.v1alpha1.TrainingRun;

/** Names of the objects the operator creates. */
public final class Names {
  private Names() {}

  public static String configMap(TrainingRun run) {
    return run.getMetadata().getName() + "-config";
  }

  public static String learner(TrainingRun run) {
    return run.getMetadata().getName() + "-learner";
  }

  public static String workers(TrainingRun run) {
    return run.getMetadata().getName() + "-workers";
  }

  /** The run's own pool (used when spec.sandbox.poolRef is unset). */
  public static String inlinePool(TrainingRun run) {
    return run.getMetadata().getName() + "-sandbox";
  }

  /** The pool the run's workers use: the referenced one or the run's own. */
  public static String pool(TrainingRun run) {
    String ref = run.getSpec().sandbox == null ? null : run.getSpec().sandbox.poolRef;
    return ref != null ? ref : inlinePool(run);
  }

  /** The learner's gRPC address inside the cluster. */
  public static String learnerTarget(TrainingRun run) {
    return learner(run)
        + "."
        + run.getMetadata().getNamespace()
        + ".svc:"
        + OperatorSettings.GRPC_PORT;
  }
}

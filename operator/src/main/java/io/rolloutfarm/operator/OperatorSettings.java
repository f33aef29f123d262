package io.rolloutfarm.operator;

import java.time.Duration;

/**
 * What the operator needs to know beyond the resources themselves. Built from {@code
 * application.properties} (overridable by environment variables) in production and by hand in
 * tests.
 *
 * @param learnerImage default learner image (a TrainingRun's spec.learner.image wins)
 * @param workerImage default rollout-worker image
 * @param sandboxImage default sandbox image
 * @param imagePullPolicy pull policy of every container the operator creates
 * @param statusPollInterval how often a run re-reads its learner's status
 * @param gpuScheduleTimeout how long a learner pod may stay unschedulable before the run fails
 * @param crashLoopRestarts learner container restarts in CrashLoopBackOff that fail the run
 * @param operatorPodLabel label (key=value) of the operator's own pods; sandboxes accept it
 */
public record OperatorSettings(
    String learnerImage,
    String workerImage,
    String sandboxImage,
    String imagePullPolicy,
    Duration statusPollInterval,
    Duration gpuScheduleTimeout,
    int crashLoopRestarts,
    String operatorPodLabel) {

  public static final int GRPC_PORT = 50051;
  public static final int METRICS_PORT = 9090;

  /** Settings for tests and examples. */
  public static OperatorSettings defaults() {
    return new OperatorSettings(
        "ghcr.io/rolloutfarm/farm:latest",
        "ghcr.io/rolloutfarm/farm:latest",
        "ghcr.io/rolloutfarm/farm:latest",
        "IfNotPresent",
        Duration.ofSeconds(10),
        Duration.ofMinutes(10),
        5,
        "app.kubernetes.io/name=rolloutfarm-operator");
  }

  public String operatorPodLabelKey() {
    return operatorPodLabel.substring(0, operatorPodLabel.indexOf('='));
  }

  public String operatorPodLabelValue() {
    return operatorPodLabel.substring(operatorPodLabel.indexOf('=') + 1);
  }
}

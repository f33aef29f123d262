package io.rolloutfarm.learner.dispatch;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import java.time.Duration;

/**
 * Settings of task dispatch and intake.
 *
 * @param roundSize groups that make one step (oversampleBatchSize)
 * @param maxAttempts attempts of one rollout task before its group is masked (infrastructure
 *     failures, malformed or stale submissions)
 * @param leaseDuration how long a lease lives without renewal
 */
public record DispatcherConfig(
    int groupSize,
    int roundSize,
    int maxOffPolicySteps,
    AlgorithmSpec.InfraFailurePolicy infraFailure,
    int maxAttempts,
    Duration leaseDuration) {

  public static DispatcherConfig of(AlgorithmSpec a, int maxAttempts, Duration leaseDuration) {
    return new DispatcherConfig(
        a.groupSize,
        a.oversampleBatchSize,
        a.maxOffPolicySteps,
        a.infraFailure,
        maxAttempts,
        leaseDuration);
  }
}

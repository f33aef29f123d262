package io.rolloutfarm.learner.ofr;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import io.rolloutfarm.api.v1alpha1.FilterSpec;

/** The oversampling-filtering-ranking settings of a run. */
public record OfrConfig(
    boolean filterZeroRewardStd,
    boolean filterBrokenInteraction,
    boolean filterOverLength,
    boolean filterNoToolUse,
    AlgorithmSpec.Ranking ranking,
    AlgorithmSpec.SurplusPolicy surplus,
    int trainBatchSize,
    int maxOffPolicySteps) {

  public static OfrConfig of(AlgorithmSpec algorithm) {
    FilterSpec f = algorithm.filters == null ? new FilterSpec() : algorithm.filters;
    return new OfrConfig(
        f.zeroRewardStd,
        f.brokenInteraction,
        f.overLength,
        f.noToolUse,
        algorithm.ranking,
        algorithm.surplus,
        algorithm.trainBatchSize,
        algorithm.maxOffPolicySteps);
  }
}

package io.rolloutfarm.learner.train;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;

/** GRPO update settings sent with every batch. */
public record TrainerConfig(
    boolean normalizeAdvantageByStd,
    double clipLow,
    double clipHigh,
    double maxGradNorm,
    int miniBatchSize,
    int epochs) {

  public static TrainerConfig of(AlgorithmSpec a) {
    return new TrainerConfig(
        a.normalizeAdvantageByStd, a.clipLow, a.clipHigh, a.maxGradNorm, a.miniBatchSize, a.epochs);
  }
}

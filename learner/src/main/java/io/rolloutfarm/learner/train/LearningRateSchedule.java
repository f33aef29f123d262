package io.rolloutfarm.learner.train;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;

/**
 * Learning rate per RL step: a linear warm-up over {@code warmupSteps} steps, then constant, or a
 * linear or cosine decay that reaches 0 after {@code totalSteps}.
 */
public record LearningRateSchedule(
    double peak, AlgorithmSpec.LrSchedule kind, int warmupSteps, long totalSteps) {

  public static LearningRateSchedule of(AlgorithmSpec algorithm, long totalSteps) {
    return new LearningRateSchedule(
        algorithm.learningRate, algorithm.lrSchedule, algorithm.lrWarmupSteps, totalSteps);
  }

  /** The learning rate of the update made at {@code step} (0-based). */
  public double at(long step) {
    if (warmupSteps > 0 && step < warmupSteps) {
      return peak * (step + 1) / warmupSteps;
    }
    long decaySteps = Math.max(1, totalSteps - warmupSteps);
    double progress = Math.min(1.0, Math.max(0, (double) (step - warmupSteps) / decaySteps));
    return switch (kind) {
      case Constant -> peak;
      case Linear -> peak * (1 - progress);
      case Cosine -> peak * 0.5 * (1 + Math.cos(Math.PI * progress));
    };
  }
}

package io.rolloutfarm.learner.metrics;

/** Called after every warm-up and RL step, on the training thread; keep it quick. */
@FunctionalInterface
public interface StepListener {
  void onStep(StepMetrics metrics);
}

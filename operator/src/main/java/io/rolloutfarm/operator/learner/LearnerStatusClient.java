package io.rolloutfarm.operator.learner;

import io.rolloutfarm.api.v1alpha1.TrainingRun;

/** Reads {@code LearnerService.GetRunStatus} of a run's learner. */
public interface LearnerStatusClient {
  LearnerObservation observe(TrainingRun run);

  /** Releases what is held for a run that is gone (connections). */
  default void forget(TrainingRun run) {}
}

package io.rolloutfarm.operator.learner;

import io.rolloutfarm.proto.v1.RunStatus;

/** What the operator learned from a run's learner status API. */
public sealed interface LearnerObservation {
  /** The learner answered. */
  record Reachable(RunStatus status) implements LearnerObservation {}

  /** The learner did not answer (not started yet, restarting, network). */
  record Unreachable(String reason) implements LearnerObservation {}
}

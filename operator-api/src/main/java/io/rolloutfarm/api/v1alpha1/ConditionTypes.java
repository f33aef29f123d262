package io.rolloutfarm.api.v1alpha1;

import java.util.List;

/**
 * Condition types of {@link TrainingRunStatus} and {@link SandboxPoolStatus}. Every condition is
 * always present with status {@code True} or {@code False}, so that {@code kubectl wait
 * --for=condition=TYPE} and {@code --for=condition=TYPE=false} both work.
 */
public final class ConditionTypes {
  /** Learner, workers and sandboxes are up and training is not paused or over. */
  public static final String READY = "Ready";

  /** The learner pods are ready and its status API answers healthy. */
  public static final String LEARNER_READY = "LearnerReady";

  /** The run's sandbox pool has ready pods. */
  public static final String SANDBOX_POOL_READY = "SandboxPoolReady";

  /** Workers hold task leases: trajectories are being produced. */
  public static final String ROLLOUTS_FLOWING = "RolloutsFlowing";

  /** The run is moving towards totalSteps (not suspended, not over). */
  public static final String PROGRESSING = "Progressing";

  /** totalSteps reached. Terminal. */
  public static final String COMPLETE = "Complete";

  /** Stopped by an unrecoverable error; the reason says which. Terminal. */
  public static final String FAILED = "Failed";

  /** spec.suspend is true: workers and the run's own sandboxes are scaled to zero. */
  public static final String SUSPENDED = "Suspended";

  /** A SandboxPool's resize is in progress. */
  public static final String SCALING = "Scaling";

  /** The TrainingRun condition types, in the order they are listed in status. */
  public static final List<String> TRAINING_RUN =
      List.of(
          READY,
          LEARNER_READY,
          SANDBOX_POOL_READY,
          ROLLOUTS_FLOWING,
          PROGRESSING,
          COMPLETE,
          FAILED,
          SUSPENDED);

  /** The SandboxPool condition types. */
  public static final List<String> SANDBOX_POOL = List.of(READY, SCALING);

  private ConditionTypes() {}
}

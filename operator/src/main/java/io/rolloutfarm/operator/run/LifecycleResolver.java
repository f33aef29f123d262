package io.rolloutfarm.operator.run;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.rolloutfarm.api.v1alpha1.ConditionTypes;
import io.rolloutfarm.api.v1alpha1.SpecValidator;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.api.v1alpha1.Violation;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.learner.LearnerObservation;
import io.rolloutfarm.operator.status.Conditions;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/** Decides a run's {@link Lifecycle}: validate first, then terminal states, then suspend. */
public final class LifecycleResolver {
  public static final String INVALID_SPEC = "InvalidSpec";

  private final OperatorSettings settings;

  public LifecycleResolver(OperatorSettings settings) {
    this.settings = settings;
  }

  public Lifecycle resolve(TrainingRun run, ObservedRun observed, Instant now) {
    List<Condition> previous = run.getStatus() == null ? null : run.getStatus().conditions;
    // Terminal states stay: a finished or failed run is not restarted behind the user's back.
    Optional<Condition> failed =
        Conditions.find(previous, ConditionTypes.FAILED).filter(c -> "True".equals(c.getStatus()));
    if (failed.isPresent() && !INVALID_SPEC.equals(failed.get().getReason())) {
      return new Lifecycle(
          Lifecycle.Phase.FAILED, failed.get().getReason(), failed.get().getMessage());
    }
    Optional<Condition> complete =
        Conditions.find(previous, ConditionTypes.COMPLETE)
            .filter(c -> "True".equals(c.getStatus()));
    if (complete.isPresent()) {
      return new Lifecycle(
          Lifecycle.Phase.COMPLETE, complete.get().getReason(), complete.get().getMessage());
    }

    List<Violation> violations = SpecValidator.validate(run);
    if (!violations.isEmpty()) {
      return new Lifecycle(
          Lifecycle.Phase.INVALID, INVALID_SPEC, SpecValidator.describe(violations));
    }

    if (observed.learnerStatus() instanceof LearnerObservation.Reachable(RunStatus s)) {
      if (s.getPhase() == RunPhase.RUN_PHASE_FAILED) {
        return new Lifecycle(
            Lifecycle.Phase.FAILED,
            "LearnerFailed",
            s.getMessage().isEmpty() ? "the learner reported a failure" : s.getMessage());
      }
      long total = run.getSpec().totalSteps;
      if (s.getPhase() == RunPhase.RUN_PHASE_COMPLETE || s.getStep() >= total) {
        return new Lifecycle(
            Lifecycle.Phase.COMPLETE,
            "TotalStepsReached",
            "trained " + s.getStep() + " of " + total + " steps");
      }
    }

    for (Pod pod : observed.learnerPods()) {
      Optional<String> crash = crashLoop(pod);
      if (crash.isPresent()) {
        return new Lifecycle(Lifecycle.Phase.FAILED, "LearnerCrashLooping", crash.get());
      }
      Optional<String> unschedulable = unschedulableFor(pod, now, settings.gpuScheduleTimeout());
      if (unschedulable.isPresent()) {
        boolean gpu = run.getSpec().learner.gpusPerPod > 0;
        return new Lifecycle(
            Lifecycle.Phase.FAILED,
            gpu ? "GpuUnschedulable" : "LearnerUnschedulable",
            unschedulable.get());
      }
    }

    if (run.getSpec().suspend) {
      return new Lifecycle(
          Lifecycle.Phase.SUSPENDED,
          "SuspendRequested",
          "spec.suspend is true: workers and the run's sandboxes are scaled to zero");
    }
    return Lifecycle.running("Running", "the farm is running");
  }

  private Optional<String> crashLoop(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
      boolean backingOff =
          cs.getState() != null
              && cs.getState().getWaiting() != null
              && "CrashLoopBackOff".equals(cs.getState().getWaiting().getReason());
      int restarts = cs.getRestartCount() == null ? 0 : cs.getRestartCount();
      if (backingOff && restarts >= settings.crashLoopRestarts()) {
        return Optional.of(
            "container "
                + cs.getName()
                + " of pod "
                + pod.getMetadata().getName()
                + " restarted "
                + restarts
                + " times and is in CrashLoopBackOff; see kubectl logs --previous "
                + pod.getMetadata().getName());
      }
    }
    return Optional.empty();
  }

  private static Optional<String> unschedulableFor(Pod pod, Instant now, Duration timeout) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    for (PodCondition c : pod.getStatus().getConditions()) {
      if ("PodScheduled".equals(c.getType())
          && "False".equals(c.getStatus())
          && "Unschedulable".equals(c.getReason())
          && c.getLastTransitionTime() != null) {
        try {
          Instant since = Instant.parse(c.getLastTransitionTime());
          if (!since.plus(timeout).isAfter(now)) {
            return Optional.of(
                "pod "
                    + pod.getMetadata().getName()
                    + " could not be scheduled for "
                    + Duration.between(since, now).toSeconds()
                    + "s: "
                    + (c.getMessage() == null ? "no node fits it" : c.getMessage()));
          }
        } catch (DateTimeParseException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }
}

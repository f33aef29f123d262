package io.rolloutfarm.operator.run;

import io.fabric8.kubernetes.api.model.Condition;
import io.rolloutfarm.api.v1alpha1.ConditionTypes;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.api.v1alpha1.TrainingRunStatus;
import io.rolloutfarm.operator.learner.LearnerObservation;
import io.rolloutfarm.operator.status.Conditions;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Computes a run's status from its lifecycle and what was observed. Every condition type is written
 * on every pass, with observedGeneration, so {@code kubectl wait} sees a consistent set.
 */
public final class RunStatusComputer {

  public TrainingRunStatus compute(
      TrainingRun run, ObservedRun observed, Lifecycle lifecycle, Instant now) {
    TrainingRunStatus previous =
        run.getStatus() == null ? new TrainingRunStatus() : run.getStatus();
    TrainingRunStatus status = new TrainingRunStatus();
    long generation =
        run.getMetadata().getGeneration() == null ? 0 : run.getMetadata().getGeneration();
    status.observedGeneration = generation;

    // Progress figures: the learner's latest, or the last known ones while it does not answer.
    status.step = previous.step;
    status.policyVersion = previous.policyVersion;
    status.rewardMean = previous.rewardMean;
    status.accuracy = previous.accuracy;
    status.toolCallsPerTrajectory = previous.toolCallsPerTrajectory;
    Optional<RunStatus> learner =
        observed.learnerStatus() instanceof LearnerObservation.Reachable(RunStatus s)
            ? Optional.of(s)
            : Optional.empty();
    learner.ifPresent(
        s -> {
          status.step = s.getStep();
          status.policyVersion = s.getPolicyVersion();
          status.rewardMean = metric(s, "reward_mean", previous.rewardMean);
          status.accuracy = metric(s, "accuracy", previous.accuracy);
          status.toolCallsPerTrajectory =
              metric(s, "tool_calls_per_trajectory", previous.toolCallsPerTrajectory);
        });
    status.sandboxReplicas =
        observed
            .pool()
            .map(SandboxPool::getStatus)
            .map(p -> p.readyReplicas)
            .orElse(previous.sandboxReplicas);

    Lifecycle.Phase phase = lifecycle.phase();
    boolean active = phase == Lifecycle.Phase.RUNNING || phase == Lifecycle.Phase.SUSPENDED;
    Conditions c = new Conditions(previous.conditions, generation, now);

    // LearnerReady: pods ready and the status API answers healthy.
    boolean learnerPodsReady =
        observed.learnerReadyReplicas() >= Math.max(1, run.getSpec().learner.replicas);
    boolean learnerHealthy = learner.map(RunStatus::getHealthy).orElse(false);
    if (!active) {
      c.set(ConditionTypes.LEARNER_READY, false, "ScaledDown", "the run is " + phaseWord(phase));
    } else if (!learnerPodsReady) {
      c.set(
          ConditionTypes.LEARNER_READY,
          false,
          "LearnerStarting",
          observed.learnerReadyReplicas()
              + "/"
              + run.getSpec().learner.replicas
              + " learner pods ready");
    } else if (learner.isEmpty()) {
      c.set(
          ConditionTypes.LEARNER_READY,
          false,
          "LearnerUnreachable",
          ((LearnerObservation.Unreachable) observed.learnerStatus()).reason());
    } else if (!learnerHealthy) {
      c.set(
          ConditionTypes.LEARNER_READY,
          false,
          "LearnerUnhealthy",
          learner.get().getMessage().isEmpty()
              ? "the learner reports unhealthy"
              : learner.get().getMessage());
    } else {
      c.set(
          ConditionTypes.LEARNER_READY,
          true,
          "LearnerServing",
          "learner " + phaseName(learner.get().getPhase()) + " at step " + learner.get().getStep());
    }

    // SandboxPoolReady: the pool (own or referenced) reports Ready.
    Optional<Condition> poolReady =
        observed
            .pool()
            .map(SandboxPool::getStatus)
            .flatMap(s -> Conditions.find(s.conditions, ConditionTypes.READY));
    boolean sandboxesReady = poolReady.map(p -> "True".equals(p.getStatus())).orElse(false);
    if (phase.terminal() && run.getSpec().sandbox.poolRef == null) {
      c.set(
          ConditionTypes.SANDBOX_POOL_READY, false, "ScaledDown", "the run is " + phaseWord(phase));
    } else if (observed.pool().isEmpty()) {
      c.set(
          ConditionTypes.SANDBOX_POOL_READY,
          false,
          "PoolNotFound",
          "SandboxPool " + io.rolloutfarm.operator.Names.pool(run) + " does not exist");
    } else {
      c.set(
          ConditionTypes.SANDBOX_POOL_READY,
          sandboxesReady,
          poolReady.map(Condition::getReason).orElse("PoolPending"),
          poolReady.map(Condition::getMessage).orElse("the pool has not reported yet"));
    }

    // RolloutsFlowing: workers hold task leases.
    int leases = learner.map(RunStatus::getActiveLeases).orElse(0);
    if (phase == Lifecycle.Phase.RUNNING && leases > 0) {
      c.set(
          ConditionTypes.ROLLOUTS_FLOWING,
          true,
          "LeasesActive",
          leases
              + " tasks leased, "
              + learner.get().getTrajectoriesAccepted()
              + " trajectories accepted");
    } else {
      c.set(
          ConditionTypes.ROLLOUTS_FLOWING,
          false,
          phase == Lifecycle.Phase.RUNNING ? "NoActiveLeases" : lifecycle.reason(),
          phase == Lifecycle.Phase.RUNNING
              ? "no worker holds a task lease"
              : "the run is " + phaseWord(phase));
    }

    boolean workersReady = observed.workerReadyReplicas() >= run.getSpec().rolloutWorkers.replicas;
    c.set(
        ConditionTypes.PROGRESSING,
        phase == Lifecycle.Phase.RUNNING,
        phase == Lifecycle.Phase.RUNNING
            ? learner.map(s -> "Learner" + phaseName(s.getPhase())).orElse("Starting")
            : lifecycle.reason(),
        phase == Lifecycle.Phase.RUNNING
            ? "step "
                + Optional.ofNullable(status.step).orElse(0L)
                + " of "
                + run.getSpec().totalSteps
            : lifecycle.message());
    c.set(
        ConditionTypes.COMPLETE,
        phase == Lifecycle.Phase.COMPLETE,
        phase == Lifecycle.Phase.COMPLETE ? lifecycle.reason() : "NotComplete",
        phase == Lifecycle.Phase.COMPLETE
            ? lifecycle.message()
            : "step "
                + Optional.ofNullable(status.step).orElse(0L)
                + " of "
                + run.getSpec().totalSteps);
    boolean failed = phase == Lifecycle.Phase.FAILED || phase == Lifecycle.Phase.INVALID;
    c.set(
        ConditionTypes.FAILED,
        failed,
        failed ? lifecycle.reason() : "NoFailure",
        failed ? lifecycle.message() : "no unrecoverable error");
    c.set(
        ConditionTypes.SUSPENDED,
        phase == Lifecycle.Phase.SUSPENDED,
        phase == Lifecycle.Phase.SUSPENDED ? lifecycle.reason() : "NotSuspended",
        phase == Lifecycle.Phase.SUSPENDED ? lifecycle.message() : "spec.suspend is false");

    List<Condition> partial = c.build();
    boolean learnerReady = Conditions.isTrue(partial, ConditionTypes.LEARNER_READY);
    if (phase != Lifecycle.Phase.RUNNING) {
      c.set(ConditionTypes.READY, false, lifecycle.reason(), lifecycle.message());
    } else if (!learnerReady) {
      c.set(ConditionTypes.READY, false, "LearnerNotReady", "the learner is not ready");
    } else if (!sandboxesReady) {
      c.set(ConditionTypes.READY, false, "SandboxPoolNotReady", "no sandbox pod is ready");
    } else if (!workersReady) {
      c.set(
          ConditionTypes.READY,
          false,
          "WorkersNotReady",
          observed.workerReadyReplicas()
              + "/"
              + run.getSpec().rolloutWorkers.replicas
              + " rollout workers ready");
    } else {
      c.set(ConditionTypes.READY, true, "FarmReady", "learner, workers and sandboxes are ready");
    }
    List<Condition> all = c.build();
    // A fixed order keeps the list stable (and unchanged writes skippable).
    status.conditions =
        ConditionTypes.TRAINING_RUN.stream()
            .map(t -> Conditions.find(all, t).orElseThrow())
            .toList();
    return status;
  }

  private static Double metric(RunStatus s, String name, Double fallback) {
    return s.getMetricsMap().containsKey(name) ? s.getMetricsMap().get(name) : fallback;
  }

  private static String phaseName(RunPhase phase) {
    return switch (phase) {
      case RUN_PHASE_STARTING -> "Starting";
      case RUN_PHASE_WARMUP -> "WarmingUp";
      case RUN_PHASE_TRAINING -> "Training";
      case RUN_PHASE_EVALUATING -> "Evaluating";
      case RUN_PHASE_COMPLETE -> "Complete";
      case RUN_PHASE_FAILED -> "Failed";
      default -> "Starting";
    };
  }

  private static String phaseWord(Lifecycle.Phase phase) {
    return switch (phase) {
      case INVALID -> "invalid";
      case RUNNING -> "running";
      case SUSPENDED -> "suspended";
      case COMPLETE -> "complete";
      case FAILED -> "failed";
    };
  }
}

package io.rolloutfarm.cli.local;

import io.rolloutfarm.api.v1alpha1.ConditionTypes;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * The TrainingRun conditions of a local run, derived from the learner's status and the sandbox
 * servers the way the operator derives them from pods: the same types, so that what a laptop shows
 * reads like {@code kubectl describe tr}.
 */
final class LocalConditions {
  /** One condition. */
  record Condition(String type, boolean status, String reason, String message) {}

  /** Everything one status line shows. */
  record Snapshot(
      long step,
      Double reward,
      int sandboxesReady,
      int sandboxesTotal,
      List<Condition> conditions) {
    boolean condition(String type) {
      return conditions.stream().anyMatch(c -> c.type().equals(type) && c.status());
    }
  }

  private long lastAccepted = -1;
  private long lastFlowNanos;
  private final long flowWindowNanos;

  LocalConditions(java.time.Duration flowWindow) {
    this.flowWindowNanos = flowWindow.toNanos();
  }

  /** Derives the conditions; {@code now} is a {@link System#nanoTime} reading. */
  Snapshot observe(
      RunStatus s, int sandboxesReady, int sandboxesTotal, boolean workersUp, long now) {
    if (s.getTrajectoriesAccepted() != lastAccepted || s.getActiveLeases() > 0) {
      if (lastAccepted >= 0 || s.getActiveLeases() > 0) {
        lastFlowNanos = now;
      }
      lastAccepted = s.getTrajectoriesAccepted();
    }
    RunPhase phase = s.getPhase();
    boolean complete = phase == RunPhase.RUN_PHASE_COMPLETE;
    boolean failed = phase == RunPhase.RUN_PHASE_FAILED;
    boolean training = phase == RunPhase.RUN_PHASE_TRAINING;
    List<Condition> c = new ArrayList<>();
    boolean learnerReady = s.getHealthy() && !failed;
    boolean sandboxesOk = sandboxesTotal > 0 && sandboxesReady == sandboxesTotal;
    boolean flowing =
        training && workersUp && lastFlowNanos > 0 && now - lastFlowNanos < flowWindowNanos;
    boolean ready = learnerReady && sandboxesOk && !complete && !failed;
    c.add(
        new Condition(
            ConditionTypes.READY,
            ready,
            ready ? "AllComponentsReady" : complete ? "RunComplete" : "ComponentsNotReady",
            ready
                ? "learner, sandboxes and workers are up"
                : complete ? "the run has finished" : "waiting for the learner or sandboxes"));
    c.add(
        new Condition(
            ConditionTypes.LEARNER_READY,
            learnerReady,
            learnerReady ? "Healthy" : "Unhealthy",
            s.getMessage()));
    c.add(
        new Condition(
            ConditionTypes.SANDBOX_POOL_READY,
            sandboxesOk,
            sandboxesOk ? "PodsReady" : "PodsNotReady",
            sandboxesReady + "/" + sandboxesTotal + " sandbox servers up"));
    c.add(
        new Condition(
            ConditionTypes.ROLLOUTS_FLOWING,
            flowing,
            flowing ? "TrajectoriesArriving" : reasonNotFlowing(phase),
            s.getTrajectoriesAccepted()
                + " trajectories accepted, "
                + s.getActiveLeases()
                + " leases held"));
    boolean progressing = !complete && !failed && phase != RunPhase.RUN_PHASE_UNSPECIFIED;
    c.add(
        new Condition(
            ConditionTypes.PROGRESSING,
            progressing,
            progressing ? phaseReason(phase) : complete ? "RunComplete" : "RunFailed",
            "step " + s.getStep() + " of " + s.getTotalSteps()));
    c.add(
        new Condition(
            ConditionTypes.COMPLETE,
            complete,
            complete ? "TotalStepsReached" : "InProgress",
            s.getTotalSteps() + " steps"));
    c.add(
        new Condition(
            ConditionTypes.FAILED,
            failed,
            failed ? "LearnerFailed" : "NoFailure",
            failed ? s.getMessage() : "no failure"));
    Double reward = s.getMetricsMap().get(RunReport.REWARD_MEAN);
    return new Snapshot(s.getStep(), reward, sandboxesReady, sandboxesTotal, c);
  }

  private static String reasonNotFlowing(RunPhase phase) {
    return switch (phase) {
      case RUN_PHASE_WARMUP -> "WarmingUp";
      case RUN_PHASE_EVALUATING -> "Evaluating";
      case RUN_PHASE_COMPLETE -> "RunComplete";
      case RUN_PHASE_FAILED -> "RunFailed";
      default -> "NoTrajectories";
    };
  }

  private static String phaseReason(RunPhase phase) {
    return switch (phase) {
      case RUN_PHASE_STARTING -> "Starting";
      case RUN_PHASE_WARMUP -> "WarmingUp";
      case RUN_PHASE_EVALUATING -> "Evaluating";
      default -> "StepsAdvancing";
    };
  }
}

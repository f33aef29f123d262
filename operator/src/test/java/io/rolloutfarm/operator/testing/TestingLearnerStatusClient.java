package io.rolloutfarm.operator.testing;

import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.operator.learner.LearnerObservation;
import io.rolloutfarm.operator.learner.LearnerStatusClient;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A learner status API whose answers the test sets per run name. */
public class TestingLearnerStatusClient implements LearnerStatusClient {
  private final Map<String, LearnerObservation> answers = new ConcurrentHashMap<>();
  public final Map<String, Integer> forgotten = new ConcurrentHashMap<>();
  public final Map<String, Integer> calls = new ConcurrentHashMap<>();

  public void set(String run, RunStatus status) {
    answers.put(run, new LearnerObservation.Reachable(status));
  }

  public void unreachable(String run) {
    answers.remove(run);
  }

  @Override
  public LearnerObservation observe(TrainingRun run) {
    calls.merge(run.getMetadata().getName(), 1, Integer::sum);
    return answers.getOrDefault(
        run.getMetadata().getName(), new LearnerObservation.Unreachable("connection refused"));
  }

  @Override
  public void forget(TrainingRun run) {
    forgotten.merge(run.getMetadata().getName(), 1, Integer::sum);
  }

  /** A healthy learner in training at {@code step} with some leases out. */
  public static RunStatus training(long step, int leases, double reward) {
    return RunStatus.newBuilder()
        .setPhase(RunPhase.RUN_PHASE_TRAINING)
        .setStep(step)
        .setPolicyVersion(step)
        .setHealthy(true)
        .setActiveLeases(leases)
        .setTrajectoriesAccepted(step * 100)
        .putMetrics("reward_mean", reward)
        .putMetrics("accuracy", reward / 2)
        .putMetrics("tool_calls_per_trajectory", 1.5)
        .build();
  }
}

package io.rolloutfarm.cli.local;

import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.AgentLoop;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.sandbox.Sandboxes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Runs the held-out split through the same agent loop, policy service and sandboxes as training,
 * with greedy decoding (so that two evaluations of the same weights agree), and reduces the
 * trajectories to accuracy and tool use, overall and per task family.
 */
final class HeldOutEvaluation {
  /** Key of the overall held-out accuracy in the report. */
  static final String ACCURACY = RunReport.HELDOUT_ACCURACY;

  private final AgentLoop loop;
  private final int concurrency;

  HeldOutEvaluation(Policy policy, Sandboxes sandboxes, AgentSettings training, int concurrency) {
    this.loop = new AgentLoop(policy, sandboxes, greedy(training), WorkerMetrics.inMemory());
    this.concurrency = Math.max(1, concurrency);
  }

  /** The training settings with temperature 0: evaluation measures the policy's best guess. */
  static AgentSettings greedy(AgentSettings s) {
    return new AgentSettings(
        s.maxTurns(),
        s.maxTokensPerTurn(),
        s.maxTotalTokens(),
        s.maxImagesInContext(),
        0.0,
        1.0,
        s.endOnExecutionError(),
        s.reward(),
        s.imageTemplate(),
        s.videoTemplate(),
        s.chatFormat(),
        s.maxInfraRetries(),
        s.execTimeoutMs(),
        s.seed());
  }

  /**
   * Runs every task once. Trajectories that failed for infrastructure reasons are left out of the
   * figures (they say nothing about the policy) and counted separately.
   */
  Map<String, Double> run(List<Task> tasks) throws InterruptedException {
    List<Trajectory> done = new ArrayList<>();
    Semaphore slots = new Semaphore(concurrency);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Trajectory>> futures = new ArrayList<>();
      for (Task t : tasks) {
        futures.add(
            pool.submit(
                () -> {
                  slots.acquire();
                  try {
                    return loop.run(t);
                  } finally {
                    slots.release();
                  }
                }));
      }
      for (Future<Trajectory> f : futures) {
        try {
          done.add(f.get());
        } catch (ExecutionException e) {
          throw new IllegalStateException(
              "evaluation trajectory failed: " + e.getCause().getMessage(), e.getCause());
        }
      }
    }
    return summarize(done);
  }

  static Map<String, Double> summarize(List<Trajectory> trajectories) {
    Map<String, double[]> byFamily = new TreeMap<>();
    double correct = 0;
    double tools = 0;
    int scored = 0;
    int infra = 0;
    for (Trajectory t : trajectories) {
      if (isInfraFailure(t.getEndReason())) {
        infra++;
        continue;
      }
      scored++;
      correct += t.getReward().getAccuracy();
      tools += t.getToolCalls();
      double[] f = byFamily.computeIfAbsent(t.getFamily(), k -> new double[2]);
      f[0] += t.getReward().getAccuracy();
      f[1]++;
    }
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(ACCURACY, scored == 0 ? 0 : correct / scored);
    m.put("heldout_tool_calls_per_trajectory", scored == 0 ? 0 : tools / scored);
    m.put("heldout_trajectories", (double) scored);
    m.put("heldout_infra_failures", (double) infra);
    byFamily.forEach(
        (family, f) ->
            m.put("heldout_accuracy_" + (family.isEmpty() ? "unknown" : family), f[0] / f[1]));
    return m;
  }

  private static boolean isInfraFailure(EndReason reason) {
    return reason == EndReason.END_REASON_SANDBOX_FAILURE
        || reason == EndReason.END_REASON_POLICY_FAILURE;
  }
}

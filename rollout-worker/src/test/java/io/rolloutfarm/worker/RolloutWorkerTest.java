package io.rolloutfarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.TrajectorySubmission;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.policy.ScriptedPolicy;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.testing.BlockingPolicy;
import io.rolloutfarm.worker.testing.FakeLearner;
import io.rolloutfarm.worker.testing.FakeSandbox;
import io.rolloutfarm.worker.testing.InProcess;
import io.rolloutfarm.worker.testing.Tasks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RolloutWorkerTest {
  private final FakeSandbox sandbox = new FakeSandbox();
  private final InProcess sandboxServer = new InProcess(sandbox);
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : toClose.reversed()) {
      c.close();
    }
    sandboxServer.close();
  }

  private static List<Task> tasks(int n) {
    return IntStream.range(0, n).mapToObj(i -> Tasks.imageTask("t" + i, "1", "numeric")).toList();
  }

  private RolloutWorker worker(
      FakeLearner learner, Policy policy, int concurrency, Duration renew) {
    InProcess learnerServer = new InProcess(learner);
    toClose.add(learnerServer);
    GrpcSandboxes sandboxes =
        GrpcSandboxes.ofChannels(
            Map.of("sandbox", sandboxServer.channel), GrpcSandboxes.Deadlines.defaults(), 0);
    WorkerConfig config =
        WorkerConfig.of("w1", concurrency, AgentSettings.defaults())
            .withIntervals(renew, Duration.ofMillis(50), Duration.ofSeconds(5));
    RolloutWorker w =
        new RolloutWorker(
                config, learnerServer.channel, policy, sandboxes, WorkerMetrics.inMemory())
            .owning(sandboxes);
    toClose.add(w);
    return w;
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void leasesRunAndSubmitEveryTaskThenFinishWithTheRun() throws Exception {
    FakeLearner learner = new FakeLearner(tasks(12));
    ScriptedPolicy policy =
        new ScriptedPolicy(
            List.of("<code>\n```python\nprint('1')\n```\n</code>", "<answer>\\boxed{1}</answer>"),
            "test");
    RolloutWorker w = worker(learner, policy, 4, Duration.ofSeconds(10)).start();
    assertThat(w.awaitRunFinished(Duration.ofSeconds(30))).isTrue();
    assertThat(learner.submissions).hasSize(12);
    assertThat(learner.submissions.stream().map(TrajectorySubmission::getLeaseId).distinct())
        .hasSize(12)
        .allSatisfy(id -> assertThat(learner.leased).containsKey(id));
    for (TrajectorySubmission s : learner.submissions) {
      assertThat(s.getWorkerId()).isEqualTo("w1");
      assertThat(s.getTrajectory().getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
      assertThat(s.getTrajectory().getTaskId())
          .isEqualTo(learner.leased.get(s.getLeaseId()).getTaskId());
      assertThat(s.getTrajectory().getReward().getTotal()).isEqualTo(1.1);
    }
    assertThat(w.heldLeases()).isZero();
    assertThat(w.metrics().count(EndReason.END_REASON_DONE)).isEqualTo(12.0);
    assertThat(w.metrics().inFlight()).isZero();
    assertThat(sandbox.sessions).isEmpty();
    w.close();
    assertThat(learner.released).isEmpty();
  }

  @Test
  void closeCancelsInFlightTrajectoriesAndReleasesTheirLeases() throws Exception {
    FakeLearner learner = new FakeLearner(tasks(5));
    BlockingPolicy policy = new BlockingPolicy();
    RolloutWorker w = worker(learner, policy, 3, Duration.ofSeconds(10)).start();
    await(() -> policy.waiting.get() == 3, "three trajectories waiting for the policy");
    assertThat(learner.leased).hasSize(3);
    w.close();
    assertThat(learner.released).containsExactlyInAnyOrderElementsOf(learner.leased.keySet());
    assertThat(learner.releaseReasons).containsExactly("shutdown");
    assertThat(learner.submissions).isEmpty();
    assertThat(policy.waiting.get()).isZero();
    // Cancelled trajectories still close their sandbox sessions.
    assertThat(sandbox.closed).hasSize(3);
    assertThat(sandbox.sessions).isEmpty();
    assertThat(learner.queue).hasSize(2);
  }

  @Test
  void heldLeasesAreRenewedAndExpiredOnesAreDropped() throws Exception {
    FakeLearner learner = new FakeLearner(tasks(2));
    BlockingPolicy policy = new BlockingPolicy();
    RolloutWorker w = worker(learner, policy, 2, Duration.ofMillis(50)).start();
    await(() -> policy.waiting.get() == 2, "two trajectories waiting");
    await(() -> learner.renewals.stream().anyMatch(r -> r.size() == 2), "a renewal of both leases");
    assertThat(learner.renewals.getLast()).containsExactlyInAnyOrder("L1", "L2");
    learner.expireOnRenew.add("L1");
    await(() -> w.heldLeases() == 1, "the expired lease to be dropped");
    await(() -> policy.waiting.get() == 1, "the expired lease's trajectory to stop");
    policy.gate.countDown();
    assertThat(w.awaitRunFinished(Duration.ofSeconds(20))).isTrue();
    assertThat(learner.submissions)
        .extracting(TrajectorySubmission::getLeaseId)
        .containsExactly("L2");
    w.close();
    assertThat(learner.released).isEmpty();
  }
}

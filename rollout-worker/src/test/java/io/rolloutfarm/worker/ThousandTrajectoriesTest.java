package io.rolloutfarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.testing.BlockingPolicy;
import io.rolloutfarm.worker.testing.FakeLearner;
import io.rolloutfarm.worker.testing.FakeSandbox;
import io.rolloutfarm.worker.testing.InProcess;
import io.rolloutfarm.worker.testing.Tasks;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ThousandTrajectoriesTest {
  @Test
  void oneWorkerHoldsAThousandTrajectoriesInFlightOnAFewPlatformThreads() throws Exception {
    List<Task> tasks =
        IntStream.range(0, 1000).mapToObj(i -> Tasks.imageTask("t" + i, "1", "exact")).toList();
    FakeLearner learner = new FakeLearner(tasks);
    BlockingPolicy policy = new BlockingPolicy();
    int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
    try (InProcess learnerServer = new InProcess(learner);
        InProcess sandboxServer = new InProcess(new FakeSandbox());
        GrpcSandboxes sandboxes =
            GrpcSandboxes.ofChannels(
                Map.of("s", sandboxServer.channel), GrpcSandboxes.Deadlines.defaults(), 0);
        RolloutWorker worker =
            new RolloutWorker(
                    WorkerConfig.of("w", 1000, AgentSettings.defaults()),
                    learnerServer.channel,
                    policy,
                    sandboxes,
                    WorkerMetrics.inMemory())
                .start()) {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (policy.waiting.get() < 1000 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(policy.waiting.get()).isEqualTo(1000);
      assertThat(worker.metrics().inFlight()).isEqualTo(1000);
      int platformThreads = ManagementFactory.getThreadMXBean().getThreadCount();
      assertThat(platformThreads - threadsBefore).isLessThan(64);
      policy.gate.countDown();
      assertThat(worker.awaitRunFinished(Duration.ofSeconds(60))).isTrue();
      assertThat(learner.submissions).hasSize(1000);
    }
  }
}

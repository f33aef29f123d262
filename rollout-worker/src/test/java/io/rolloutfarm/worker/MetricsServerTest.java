package io.rolloutfarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.worker.agent.AgentLoop;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.InfraFailure.SandboxFailure;
import io.rolloutfarm.worker.policy.ScriptedPolicy;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.sandbox.SandboxSession;
import io.rolloutfarm.worker.sandbox.Sandboxes;
import io.rolloutfarm.worker.testing.FakeSandbox;
import io.rolloutfarm.worker.testing.InProcess;
import io.rolloutfarm.worker.testing.Tasks;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
  @Test
  void prometheusEndpointShowsTrajectoryTurnToolAndLatencyMetrics() throws Exception {
    PrometheusMeterRegistry registry = MetricsServer.newRegistry();
    WorkerMetrics metrics = new WorkerMetrics(registry);
    try (MetricsServer server = new MetricsServer(registry, 0);
        InProcess sandbox = new InProcess(new FakeSandbox());
        GrpcSandboxes sandboxes =
            GrpcSandboxes.ofChannels(
                Map.of("s", sandbox.channel), GrpcSandboxes.Deadlines.defaults(), 0)) {
      ScriptedPolicy policy =
          new ScriptedPolicy(
              List.of(
                  "<code>\n```python\nprint('1')\n```\n</code>",
                  "<code>\n```python\nprint('2')\n```\n</code>",
                  "<answer>\\boxed{1}</answer>"),
              "test");
      metrics.started();
      metrics.finished(
          new AgentLoop(policy, sandboxes, AgentSettings.defaults(), metrics)
              .run(Tasks.imageTask("t", "1", "exact")));
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body())
          .contains("rollout_trajectories_total{end_reason=\"DONE\"} 1.0")
          .contains("rollout_trajectories_total{end_reason=\"SANDBOX_FAILURE\"} 0.0")
          .contains("rollout_turns_per_trajectory_sum 3.0")
          .contains("rollout_tool_calls_per_trajectory_sum 2.0")
          .contains("rollout_policy_latency_seconds_count 3")
          .contains("rollout_sandbox_latency_seconds_count{op=\"execute\"} 2")
          .contains("rollout_inflight_trajectories 0.0")
          .contains("jvm_threads_live_threads");
    }
  }

  @Test
  void trajectoriesWaitingForASandboxAreExportedForTheAutoscaler() throws Exception {
    PrometheusMeterRegistry registry = MetricsServer.newRegistry();
    WorkerMetrics metrics = new WorkerMetrics(registry);
    CountDownLatch poolHasRoom = new CountDownLatch(1);
    try (MetricsServer server = new MetricsServer(registry, 0);
        InProcess sandbox = new InProcess(new FakeSandbox());
        GrpcSandboxes grpc =
            GrpcSandboxes.ofChannels(
                Map.of("s", sandbox.channel), GrpcSandboxes.Deadlines.defaults(), 0)) {
      // A pool without a free slot: open() blocks until one frees up.
      Sandboxes full =
          new Sandboxes() {
            @Override
            public SandboxSession open(List<Media> media, String label, Set<String> avoid)
                throws SandboxFailure {
              try {
                poolHasRoom.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return grpc.open(media, label, avoid);
            }

            @Override
            public String describe() {
              return "full";
            }
          };
      AgentLoop loop =
          new AgentLoop(
              new ScriptedPolicy(List.of("<answer>\\boxed{1}</answer>"), "test"),
              full,
              AgentSettings.defaults(),
              metrics);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<?> first = pool.submit(() -> loop.run(Tasks.imageTask("a", "1", "exact")));
        Future<?> second = pool.submit(() -> loop.run(Tasks.imageTask("b", "1", "exact")));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (metrics.sandboxPending() < 2 && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(metrics.sandboxPending()).isEqualTo(2);
        assertThat(scrape(server)).contains("rolloutfarm_worker_sandbox_pending_requests 2.0");

        poolHasRoom.countDown();
        first.get(10, TimeUnit.SECONDS);
        second.get(10, TimeUnit.SECONDS);
        assertThat(metrics.sandboxPending()).isZero();
        assertThat(scrape(server)).contains("rolloutfarm_worker_sandbox_pending_requests 0.0");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  private static String scrape(MetricsServer server) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}

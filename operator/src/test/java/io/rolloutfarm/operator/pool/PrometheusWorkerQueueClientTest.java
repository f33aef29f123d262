package io.rolloutfarm.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Scrapes a real HTTP endpoint on 127.0.0.1 serving a worker's Prometheus text. */
class PrometheusWorkerQueueClientTest {
  /** As the rollout worker's Micrometer Prometheus registry renders the gauge. */
  private static final String WORKER_METRICS =
      """
      # HELP rollout_inflight_trajectories \s
      # TYPE rollout_inflight_trajectories gauge
      rollout_inflight_trajectories 32.0
      # HELP rolloutfarm_worker_sandbox_pending_requests Trajectories waiting for a sandbox session
      # TYPE rolloutfarm_worker_sandbox_pending_requests gauge
      rolloutfarm_worker_sandbox_pending_requests 7.0
      """;

  private HttpServer server;
  private final AtomicReference<String> body = new AtomicReference<>(WORKER_METRICS);
  private final AtomicInteger status = new AtomicInteger(200);
  private final AtomicInteger scrapes = new AtomicInteger();

  @BeforeEach
  void serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/metrics",
        exchange -> {
          scrapes.incrementAndGet();
          byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(status.get(), bytes.length);
          exchange.getResponseBody().write(bytes);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private PrometheusWorkerQueueClient client() {
    return new PrometheusWorkerQueueClient(server.getAddress().getPort());
  }

  private static Pod worker(String ip) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("w")
        .endMetadata()
        .withNewStatus()
        .withPodIP(ip)
        .endStatus()
        .build();
  }

  @Test
  void readsThePendingRequestsGaugeOfAWorker() {
    assertThat(client().pendingSandboxRequests(worker("127.0.0.1"))).isEqualTo(7);
    assertThat(scrapes.get()).isEqualTo(1);
  }

  @Test
  void sumsLabelledSeriesAndIgnoresOtherMetrics() {
    body.set(
        """
        rolloutfarm_worker_sandbox_pending_requests{pool="a"} 2.0
        rolloutfarm_worker_sandbox_pending_requests{pool="b"} 3.0 1700000000000
        rolloutfarm_worker_sandbox_pending_requests_created 99.0
        rollout_inflight_trajectories 40.0
        """);
    assertThat(client().pendingSandboxRequests(worker("127.0.0.1"))).isEqualTo(5);
  }

  @Test
  void aWorkerThatCannotAnswerCountsZero() throws IOException {
    status.set(500);
    assertThat(client().pendingSandboxRequests(worker("127.0.0.1"))).isZero();
    assertThat(client().pendingSandboxRequests(worker(null))).isZero();
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    assertThat(
            new PrometheusWorkerQueueClient(closedPort).pendingSandboxRequests(worker("127.0.0.1")))
        .isZero();
  }
}

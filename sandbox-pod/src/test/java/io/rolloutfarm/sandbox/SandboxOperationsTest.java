package io.rolloutfarm.sandbox;

import static io.rolloutfarm.sandbox.SandboxAbuseTest.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Capacity, idle reaping, CPU limit, health, metrics, stats and graceful shutdown. */
class SandboxOperationsTest {

  private static Path sessionsDir(SandboxTestSupport sandbox) {
    return sandbox.server.config().workRoot().toAbsolutePath().resolve("sessions");
  }

  private static long sessionDirs(SandboxTestSupport sandbox) throws Exception {
    try (var s = Files.list(sessionsDir(sandbox))) {
      return s.count();
    }
  }

  @Test
  void overCapacityIsResourceExhausted() throws Exception {
    try (var sandbox =
        new SandboxTestSupport(SandboxTestSupport.config("capacity").withCapacity(2))) {
      String a = sandbox.open();
      sandbox.open();
      assertThatThrownBy(sandbox::open)
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(e.getStatus().getDescription()).contains("capacity (2 sessions)");
              });
      sandbox.close(a);
      String c = sandbox.open();
      assertThat(sandbox.exec(c, "print(1)").getStdout()).isEqualTo("1\n");
    }
  }

  @Test
  void idleSessionsAreClosedAfterTheTtl() throws Exception {
    try (var sandbox =
        new SandboxTestSupport(
            SandboxTestSupport.config("idle").withIdleTtl(Duration.ofMillis(600)))) {
      String s = sandbox.open();
      long pid = sandbox.server.registry().pidOf(s);
      sandbox.exec(s, "x = 1");
      eventually("idle session closed", () -> sandbox.server.registry().pidOf(s) < 0);
      assertThatThrownBy(() -> sandbox.exec(s, "x"))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                assertThat(e.getStatus().getDescription()).contains("has ended");
              });
      eventually("process gone", () -> SandboxAbuseTest.gone(pid));
      assertThat(sessionDirs(sandbox)).isZero();
      assertThat(sandbox.server.meterRegistry().scrape())
          .contains("sandbox_session_kills_total{reason=\"idle\"} 1.0");
    }
  }

  @Test
  void cpuTimeLimitKillsTheSession() throws Exception {
    try (var sandbox = new SandboxTestSupport(SandboxTestSupport.config("cpu").withCpuSeconds(1))) {
      String s = sandbox.open();
      ExecuteResponse r = sandbox.exec(s, "while True:\n    pass", 20_000);
      assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_KILLED);
      assertThat(r.getSessionAlive()).isFalse();
      assertThat(r.getError()).startsWith("CPU time limit exceeded (1 s per session)");
      assertThat(sandbox.server.meterRegistry().scrape())
          .contains("sandbox_session_kills_total{reason=\"cpu\"} 1.0");
    }
  }

  @Test
  void healthMetricsAndStats() throws Exception {
    try (var sandbox =
        new SandboxTestSupport(SandboxTestSupport.config("ops").withMetricsPort(0))) {
      var health =
          HealthGrpc.newBlockingStub(sandbox.channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      assertThat(
              health
                  .check(
                      HealthCheckRequest.newBuilder()
                          .setService(SandboxServiceGrpc.SERVICE_NAME)
                          .build())
                  .getStatus())
          .isEqualTo(ServingStatus.SERVING);
      String s = sandbox.open();
      CompletableFuture<ExecuteResponse> sleeping =
          CompletableFuture.supplyAsync(() -> sandbox.exec(s, "import time\ntime.sleep(1.5)"));
      eventually(
          "busy session counted",
          () ->
              sandbox.stub().getStats(GetStatsRequest.getDefaultInstance()).getBusySessions() == 1);
      var stats = sandbox.stub().getStats(GetStatsRequest.getDefaultInstance());
      assertThat(stats.getOpenSessions()).isEqualTo(1);
      assertThat(stats.getCapacity()).isEqualTo(8);
      assertThat(stats.getDraining()).isFalse();
      assertThat(sleeping.get(30, TimeUnit.SECONDS).getStatus())
          .isEqualTo(ExecStatus.EXEC_STATUS_OK);
      assertThat(sandbox.stub().getStats(GetStatsRequest.getDefaultInstance()).getExecutionsTotal())
          .isEqualTo(1);
      String body =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:" + sandbox.server.metricsPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(body)
          .contains("sandbox_sessions_open 1.0")
          .contains("sandbox_sessions_busy 0.0")
          .contains("sandbox_execute_latency_seconds_bucket{status=\"ok\"")
          .contains("sandbox_open_latency_seconds_count 1")
          .contains("sandbox_session_kills_total{reason=\"timeout\"} 0.0");
    }
  }

  @Test
  void shutdownDrainsRunningExecutionsThenKillsEverything() throws Exception {
    var sandbox = new SandboxTestSupport(SandboxTestSupport.config("drain"));
    String busy = sandbox.open();
    String idle = sandbox.open();
    long idlePid = sandbox.server.registry().pidOf(idle);
    CompletableFuture<ExecuteResponse> running =
        CompletableFuture.supplyAsync(
            () -> sandbox.exec(busy, "import time\ntime.sleep(1.5)\nprint('finished')"));
    eventually(
        "execution running",
        () -> sandbox.stub().getStats(GetStatsRequest.getDefaultInstance()).getBusySessions() == 1);
    CompletableFuture<Void> closing = CompletableFuture.runAsync(sandbox.server::close);
    eventually(
        "draining",
        () -> sandbox.stub().getStats(GetStatsRequest.getDefaultInstance()).getDraining());
    assertThatThrownBy(sandbox::open)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    ExecuteResponse r = running.get(30, TimeUnit.SECONDS);
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(r.getStdout()).isEqualTo("finished\n");
    closing.get(60, TimeUnit.SECONDS);
    sandbox.channel.shutdownNow();
    assertThat(SandboxAbuseTest.gone(idlePid)).isTrue();
    assertThat(sessionDirs(sandbox)).isZero();
  }
}

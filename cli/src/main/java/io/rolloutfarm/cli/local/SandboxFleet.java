package io.rolloutfarm.cli.local;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.api.v1alpha1.SandboxPoolSpec;
import io.rolloutfarm.sandbox.SandboxConfig;
import io.rolloutfarm.sandbox.SandboxServer;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The sandbox servers of a local run: what the run's sandbox pool would be on a cluster, as servers
 * in this process on 127.0.0.1 (each runs its Python sessions as child processes). The pool's size
 * is its {@code replicas} when set, else {@code minReplicas} (at least one); each server's capacity
 * is {@code sessionsPerPod}, with the pool's execution time limit. ({@code sessionMemoryMiB} is a
 * pod-level memory figure; the server's per-process address-space limit keeps its default, which
 * numpy and matplotlib need.)
 */
final class SandboxFleet implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SandboxFleet.class.getName());

  private final List<SandboxServer> servers;
  private final List<ManagedChannel> healthChannels = new ArrayList<>();

  private SandboxFleet(List<SandboxServer> servers) {
    this.servers = servers;
    for (SandboxServer s : servers) {
      healthChannels.add(
          NettyChannelBuilder.forAddress("127.0.0.1", s.port()).usePlaintext().build());
    }
  }

  static int size(SandboxPoolSpec pool) {
    return Math.max(1, pool.replicas != null ? pool.replicas : pool.minReplicas);
  }

  static SandboxFleet start(SandboxPoolSpec pool, Path workRoot) throws IOException {
    List<SandboxServer> started = new ArrayList<>();
    try {
      for (int i = 0; i < size(pool); i++) {
        Path dir = Files.createDirectories(workRoot.resolve("server-" + i));
        SandboxConfig cfg =
            SandboxConfig.defaults()
                .withPort(0)
                .withCapacity(pool.sessionsPerPod)
                .withWorkRoot(dir)
                .withDefaultExecTimeout(Duration.ofSeconds(pool.executeTimeoutSeconds));
        started.add(SandboxServer.start(cfg));
      }
    } catch (IOException | RuntimeException e) {
      started.forEach(SandboxFleet::closeQuietly);
      throw e;
    }
    return new SandboxFleet(started);
  }

  /** {@code 127.0.0.1:PORT,...}: every server, as a worker's {@code --sandbox} list. */
  String targets() {
    return String.join(",", servers.stream().map(s -> "127.0.0.1:" + s.port()).toList());
  }

  /** A client over every server (round-robin), as a worker holds one. */
  GrpcSandboxes connect(int execTimeoutMs) {
    return GrpcSandboxes.connect(targets(), GrpcSandboxes.Deadlines.defaults(), execTimeoutMs);
  }

  int size() {
    return servers.size();
  }

  /** Servers whose gRPC health service answers SERVING (as a pod's readiness probe asks). */
  int ready() {
    int n = 0;
    for (ManagedChannel ch : healthChannels) {
      try {
        HealthCheckResponse r =
            HealthGrpc.newBlockingStub(ch)
                .withDeadlineAfter(2, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        if (r.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
          n++;
        }
      } catch (StatusRuntimeException e) {
        // not ready
      }
    }
    return n;
  }

  @Override
  public void close() {
    healthChannels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(SandboxFleet::closeQuietly);
  }

  private static void closeQuietly(SandboxServer s) {
    try {
      s.close();
    } catch (Exception e) {
      LOG.log(Level.WARNING, "closing a sandbox server failed", e);
    }
  }
}

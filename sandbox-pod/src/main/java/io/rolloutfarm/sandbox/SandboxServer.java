package io.rolloutfarm.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A running sandbox server: gRPC {@code SandboxService} plus the standard health service, backed by
 * a warm Python fork server. Embed it with
 *
 * <pre>{@code
 * SandboxConfig cfg = SandboxConfig.defaults().withPort(0).withCapacity(16).withWorkRoot(dir);
 * try (SandboxServer server = SandboxServer.start(cfg)) {
 *   int port = server.port();
 *   ...
 * }
 * }</pre>
 *
 * {@link #close()} drains (new sessions are refused, running executions get {@link
 * SandboxConfig#drainTimeout()} to finish), then kills every session.
 */
public final class SandboxServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SandboxServer.class.getName());
  private static final Duration RUNTIME_START_TIMEOUT = Duration.ofSeconds(120);

  private final SandboxConfig config;
  private final Server server;
  private final HealthStatusManager health;
  private final SessionRegistry registry;
  private final Zygote zygote;
  private final ControlSocket control;
  private final ScheduledExecutorService timer;
  private final MetricsEndpoint metricsEndpoint;
  private final PrometheusMeterRegistry meterRegistry;
  private final SandboxMetrics metrics;
  private final Protections protections;
  private final Object closeLock = new Object();
  private boolean closed;

  private SandboxServer(Builder b) {
    this.config = b.config;
    this.server = b.server;
    this.health = b.health;
    this.registry = b.registry;
    this.zygote = b.zygote;
    this.control = b.control;
    this.timer = b.timer;
    this.metricsEndpoint = b.metricsEndpoint;
    this.meterRegistry = b.meterRegistry;
    this.metrics = b.metrics;
    this.protections = b.protections;
  }

  private static final class Builder {
    SandboxConfig config;
    Server server;
    HealthStatusManager health;
    SessionRegistry registry;
    Zygote zygote;
    ControlSocket control;
    ScheduledExecutorService timer;
    MetricsEndpoint metricsEndpoint;
    PrometheusMeterRegistry meterRegistry;
    SandboxMetrics metrics;
    Protections protections;
  }

  /** Starts the runtime and the gRPC server; returns once both are ready. */
  public static SandboxServer start(SandboxConfig config) throws IOException {
    Builder b = new Builder();
    b.config = config;
    Path workRoot = config.workRoot().toAbsolutePath();
    Files.createDirectories(workRoot);
    b.timer =
        Executors.newScheduledThreadPool(
            2, Thread.ofPlatform().daemon().name("sandbox-timer-", 0).factory());
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      Path controlDir = Files.createTempDirectory(workRoot, "control-");
      Path socketPath = controlDir.resolve("s.sock");
      if (socketPath.toString().length() > 100) {
        controlDir = Files.createTempDirectory("rfsbx-");
        socketPath = controlDir.resolve("s.sock");
      }
      b.control = new ControlSocket(socketPath, b.timer);
      opened.add(b.control);
      SessionRegistry[] registryRef = new SessionRegistry[1];
      b.zygote =
          Zygote.start(
              config,
              RUNTIME_START_TIMEOUT,
              exit -> {
                if (registryRef[0] != null) {
                  registryRef[0].processExited(exit);
                }
              },
              () -> {
                if (registryRef[0] != null) {
                  registryRef[0].runtimeDied();
                }
              });
      opened.add(b.zygote);
      JsonNode reported = b.zygote.protections();
      boolean root = reported.path("root").asBoolean();
      Path sessionsRoot = Files.createDirectories(workRoot.resolve("sessions"));
      boolean uidPerSession = root && config.uidPerSession();
      if (uidPerSession) {
        Path blocked = firstUnsearchable(sessionsRoot);
        if (blocked != null) {
          LOG.warning(
              blocked
                  + " is not searchable by other users, so sessions cannot get their own uid;"
                  + " they share the server's uid (chmod o+x it or use another --work-dir)");
          uidPerSession = false;
        } else {
          Files.setPosixFilePermissions(sessionsRoot, PosixFilePermissions.fromString("rwx--x--x"));
        }
      }
      if (!uidPerSession) {
        Files.setPosixFilePermissions(sessionsRoot, PosixFilePermissions.fromString("rwx------"));
      }
      b.protections = Protections.from(reported, uidPerSession, config);
      b.registry =
          new SessionRegistry(config, b.zygote, b.control, b.timer, sessionsRoot, uidPerSession);
      registryRef[0] = b.registry;
      b.meterRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      b.metrics =
          new SandboxMetrics(
              b.meterRegistry, config.capacity(), b.registry::open, b.registry::busy);
      b.registry.metrics(b.metrics);
      b.health = new HealthStatusManager();
      b.server =
          NettyServerBuilder.forAddress(new InetSocketAddress(config.bindAddress(), config.port()))
              .executor(Executors.newVirtualThreadPerTaskExecutor())
              .maxInboundMessageSize(
                  (int) Math.min(Integer.MAX_VALUE, config.maxMediaBytes() + (1 << 20)))
              .addService(new SandboxGrpcService(b.registry, b.metrics))
              .addService(b.health.getHealthService())
              .build()
              .start();
      opened.add(() -> b.server.shutdownNow());
      b.health.setStatus("", ServingStatus.SERVING);
      b.health.setStatus(SandboxServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      if (config.metricsPort() >= 0) {
        b.metricsEndpoint =
            new MetricsEndpoint(b.meterRegistry, config.bindAddress(), config.metricsPort());
      }
      long reapEvery = Math.max(200, Math.min(30_000, config.idleTtl().toMillis() / 4));
      b.timer.scheduleWithFixedDelay(
          b.registry::reapIdle, reapEvery, reapEvery, TimeUnit.MILLISECONDS);
    } catch (IOException | RuntimeException e) {
      for (int i = opened.size() - 1; i >= 0; i--) {
        try {
          opened.get(i).close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      b.timer.shutdownNow();
      throw e;
    }
    SandboxServer s = new SandboxServer(b);
    LOG.info(
        "sandbox server on "
            + config.bindAddress()
            + ":"
            + s.port()
            + ", capacity "
            + config.capacity()
            + ", work root "
            + workRoot
            + "; protections: "
            + b.protections.describe());
    return s;
  }

  private static Path firstUnsearchable(Path dir) throws IOException {
    for (Path p = dir.getParent(); p != null; p = p.getParent()) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
      if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
        return p;
      }
    }
    return null;
  }

  /** The gRPC port. */
  public int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** The Prometheus port, or -1 when metrics are not served. */
  public int metricsPort() {
    return metricsEndpoint == null ? -1 : metricsEndpoint.port();
  }

  /** The configuration this server runs with. */
  public SandboxConfig config() {
    return config;
  }

  /** Which protections sessions get on this machine. */
  public Protections protections() {
    return protections;
  }

  /** The metrics registry (Prometheus format). */
  public PrometheusMeterRegistry meterRegistry() {
    return meterRegistry;
  }

  SessionRegistry registry() {
    return registry;
  }

  /** Blocks until the server has shut down (the CLI's main thread waits here). */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** Drains, then kills every session, stops the runtime and the gRPC server. */
  @Override
  public void close() {
    synchronized (closeLock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    registry.startDraining();
    health.setStatus("", ServingStatus.NOT_SERVING);
    health.setStatus(SandboxServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
    try {
      registry.awaitIdle(config.drainTimeout());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    registry.endAll(KillReason.SHUTDOWN);
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    zygote.close();
    control.close();
    try {
      Files.deleteIfExists(control.path());
      Files.deleteIfExists(control.path().getParent());
    } catch (IOException | UncheckedIOException e) {
      LOG.fine("control socket folder not removed: " + e);
    }
    if (metricsEndpoint != null) {
      metricsEndpoint.close();
    }
    timer.shutdownNow();
    meterRegistry.close();
  }
}

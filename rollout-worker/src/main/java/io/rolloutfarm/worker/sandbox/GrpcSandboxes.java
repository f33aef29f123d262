package io.rolloutfarm.worker.sandbox;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.proto.v1.CloseSessionRequest;
import io.rolloutfarm.proto.v1.ExecuteRequest;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.OpenSessionRequest;
import io.rolloutfarm.proto.v1.OpenSessionResponse;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc.SandboxServiceBlockingStub;
import io.rolloutfarm.worker.agent.InfraFailure.SandboxFailure;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Sandbox sessions over gRPC, spread round-robin across sandbox servers.
 *
 * <p>A session lives on one server, so every call of a session must reach the same server: each
 * server gets its own channel, and a {@code dns:///name:port} target is resolved to its addresses
 * (one per pod behind a headless service) and re-resolved every {@link #DNS_REFRESH}, instead of
 * letting a load balancer scatter one session's calls across pods.
 */
public final class GrpcSandboxes implements Sandboxes {
  static final Duration DNS_REFRESH = Duration.ofSeconds(10);

  /** Deadlines of the sandbox calls. */
  public record Deadlines(Duration open, Duration execute, Duration close) {
    public static Deadlines defaults() {
      return new Deadlines(Duration.ofSeconds(60), Duration.ofSeconds(300), Duration.ofSeconds(10));
    }
  }

  private final List<String> targets;
  private final Function<String, Channel> channelFactory;
  private final boolean ownsChannels;
  private final Deadlines deadlines;
  private final int execTimeoutMs;
  private final Map<String, Channel> channels = new LinkedHashMap<>();
  private final AtomicLong next = new AtomicLong();
  private volatile List<String> endpoints = List.of();
  private volatile long resolvedAtNanos;

  private GrpcSandboxes(
      List<String> targets,
      Function<String, Channel> channelFactory,
      boolean ownsChannels,
      Deadlines deadlines,
      int execTimeoutMs) {
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no sandbox targets given");
    }
    this.targets = List.copyOf(targets);
    this.channelFactory = channelFactory;
    this.ownsChannels = ownsChannels;
    this.deadlines = deadlines;
    this.execTimeoutMs = execTimeoutMs;
  }

  /**
   * Sandboxes at a comma-separated list of {@code host:port} addresses and/or {@code
   * dns:///name:port} targets.
   *
   * @param execTimeoutMs per-execution limit sent to the server; 0 for the server's default
   */
  public static GrpcSandboxes connect(String targetList, Deadlines deadlines, int execTimeoutMs) {
    List<String> targets = parseTargets(targetList);
    return new GrpcSandboxes(
        targets,
        address -> NettyChannelBuilder.forTarget(address).usePlaintext().build(),
        true,
        deadlines,
        execTimeoutMs);
  }

  /** Sandboxes behind channels the caller owns (tests, in-process farms), keyed by name. */
  public static GrpcSandboxes ofChannels(
      Map<String, ? extends Channel> channels, Deadlines deadlines, int execTimeoutMs) {
    return new GrpcSandboxes(
        new ArrayList<>(channels.keySet()), channels::get, false, deadlines, execTimeoutMs);
  }

  /** Splits and checks a target list. */
  public static List<String> parseTargets(String targetList) {
    List<String> out = new ArrayList<>();
    for (String raw : targetList.split(",")) {
      String t = raw.strip();
      if (t.isEmpty()) {
        continue;
      }
      String hostPort = t.startsWith("dns:///") ? t.substring("dns:///".length()) : t;
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw new IllegalArgumentException(
            "sandbox target '" + t + "': expected HOST:PORT or dns:///NAME:PORT");
      }
      try {
        int port = Integer.parseInt(hostPort.substring(colon + 1));
        if (port < 1 || port > 65535) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "sandbox target '" + t + "': port must be a number in 1..65535");
      }
      out.add(t);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("sandbox target list '" + targetList + "' is empty");
    }
    return out;
  }

  @Override
  public String describe() {
    return String.join(",", targets);
  }

  /** The sandbox servers currently known (after DNS resolution). */
  public List<String> endpoints() {
    refreshIfStale();
    return endpoints;
  }

  @Override
  public SandboxSession open(List<Media> media, String label, Set<String> avoid)
      throws SandboxFailure {
    List<String> known = endpoints();
    List<String> preferred = known.stream().filter(e -> !avoid.contains(e)).toList();
    List<String> order = preferred.isEmpty() ? known : preferred;
    int start = (int) Math.floorMod(next.getAndIncrement(), (long) order.size());
    OpenSessionRequest request =
        OpenSessionRequest.newBuilder().addAllMedia(media).setLabel(label).build();
    SandboxFailure last = null;
    // Try each server once: a full or draining server is not a failure of this task.
    for (int i = 0; i < order.size(); i++) {
      String endpoint = order.get((start + i) % order.size());
      try {
        return openOn(endpoint, request);
      } catch (StatusRuntimeException e) {
        checkCancelled(e);
        if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
          throw new SandboxFailure(
              endpoint,
              "sandbox "
                  + endpoint
                  + " rejected the task's media: "
                  + e.getStatus().getDescription(),
              e);
        }
        last =
            new SandboxFailure(endpoint, "open session on " + endpoint + ": " + e.getStatus(), e);
      }
    }
    throw last;
  }

  /**
   * Opens a session and waits for it even when the trajectory is cancelled meanwhile: a cancelled
   * call could still create the session on the server, where nobody would close it until its idle
   * timeout. A session that arrives after the cancellation is closed at once.
   */
  private GrpcSession openOn(String endpoint, OpenSessionRequest request) {
    Channel channel;
    synchronized (channels) {
      channel = channels.computeIfAbsent(endpoint, channelFactory);
    }
    ListenableFuture<OpenSessionResponse> call =
        SandboxServiceGrpc.newFutureStub(channel)
            .withDeadlineAfter(deadlines.open())
            .openSession(request);
    boolean interrupted = false;
    OpenSessionResponse response;
    while (true) {
      try {
        response = call.get();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (ExecutionException e) {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
        if (e.getCause() instanceof StatusRuntimeException sre) {
          throw sre;
        }
        throw Status.fromThrowable(e.getCause()).asRuntimeException();
      }
    }
    GrpcSession session = new GrpcSession(endpoint, response.getSessionId());
    if (interrupted) {
      session.close();
      Thread.currentThread().interrupt();
      throw new CancellationException("trajectory cancelled while its sandbox session opened");
    }
    return session;
  }

  private SandboxServiceBlockingStub stub(String endpoint) {
    Channel channel;
    synchronized (channels) {
      channel = channels.computeIfAbsent(endpoint, channelFactory);
    }
    return SandboxServiceGrpc.newBlockingStub(channel);
  }

  private void refreshIfStale() {
    long now = System.nanoTime();
    if (!endpoints.isEmpty() && now - resolvedAtNanos < DNS_REFRESH.toNanos()) {
      return;
    }
    synchronized (this) {
      if (!endpoints.isEmpty() && now - resolvedAtNanos < DNS_REFRESH.toNanos()) {
        return;
      }
      List<String> resolved = new ArrayList<>();
      for (String target : targets) {
        if (!target.startsWith("dns:///")) {
          resolved.add(target);
          continue;
        }
        String hostPort = target.substring("dns:///".length());
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, colon);
        String port = hostPort.substring(colon + 1);
        try {
          for (InetAddress address : InetAddress.getAllByName(host)) {
            String ip = address.getHostAddress();
            resolved.add((ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port);
          }
        } catch (UnknownHostException e) {
          // Keep what we had: pods come and go, DNS may briefly have no records.
        }
      }
      if (!resolved.isEmpty() || endpoints.isEmpty()) {
        endpoints = resolved.isEmpty() ? targets : List.copyOf(resolved);
      }
      resolvedAtNanos = now;
    }
  }

  @Override
  public void close() {
    if (!ownsChannels) {
      return;
    }
    synchronized (channels) {
      for (Channel c : channels.values()) {
        ((ManagedChannel) c).shutdown();
      }
      for (Channel c : channels.values()) {
        try {
          ((ManagedChannel) c).awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** A worker shutting down interrupts its trajectories; that is not a sandbox failure. */
  static void checkCancelled(StatusRuntimeException e) {
    if (e.getStatus().getCode() == Status.Code.CANCELLED
        && Thread.currentThread().isInterrupted()) {
      CancellationException c = new CancellationException("trajectory cancelled");
      c.initCause(e);
      throw c;
    }
  }

  private final class GrpcSession implements SandboxSession {
    private final String endpoint;
    private final String sessionId;

    GrpcSession(String endpoint, String sessionId) {
      this.endpoint = endpoint;
      this.sessionId = sessionId;
    }

    @Override
    public String endpoint() {
      return endpoint;
    }

    @Override
    public ExecuteResponse execute(String code) throws SandboxFailure {
      try {
        return stub(endpoint)
            .withDeadlineAfter(deadlines.execute())
            .execute(
                ExecuteRequest.newBuilder()
                    .setSessionId(sessionId)
                    .setCode(code)
                    .setTimeoutMs(execTimeoutMs)
                    .build());
      } catch (StatusRuntimeException e) {
        checkCancelled(e);
        throw new SandboxFailure(
            endpoint,
            "execute on " + endpoint + " (session " + sessionId + "): " + e.getStatus(),
            e);
      }
    }

    @Override
    public void close() {
      // Close even when the trajectory was cancelled, so the sandbox frees the runtime now.
      boolean interrupted = Thread.interrupted();
      try {
        stub(endpoint)
            .withDeadlineAfter(deadlines.close())
            .closeSession(CloseSessionRequest.newBuilder().setSessionId(sessionId).build());
      } catch (StatusRuntimeException e) {
        // The server reclaims abandoned sessions; nothing else to do.
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}

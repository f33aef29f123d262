package io.rolloutfarm.worker.bench;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.CloseSessionRequest;
import io.rolloutfarm.proto.v1.CloseSessionResponse;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteRequest;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.OpenSessionRequest;
import io.rolloutfarm.proto.v1.OpenSessionResponse;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.SandboxStats;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A sandbox server that runs no code: every execution answers after a fixed latency with the same
 * output. It measures the worker, not Python.
 */
public final class SimulatedSandboxService extends SandboxServiceGrpc.SandboxServiceImplBase {
  private final long latencyMs;
  private final ScheduledExecutorService timer;
  private final Set<String> sessions = ConcurrentHashMap.newKeySet();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong executions = new AtomicLong();
  private static final ExecuteResponse OK =
      ExecuteResponse.newBuilder()
          .setStatus(ExecStatus.EXEC_STATUS_OK)
          .setStdout("(64, 64)\n")
          .setSessionAlive(true)
          .build();

  public SimulatedSandboxService(long latencyMs, ScheduledExecutorService timer) {
    this.latencyMs = latencyMs;
    this.timer = timer;
  }

  @Override
  public void openSession(OpenSessionRequest req, StreamObserver<OpenSessionResponse> out) {
    String id = "sim-" + ids.incrementAndGet();
    sessions.add(id);
    out.onNext(OpenSessionResponse.newBuilder().setSessionId(id).build());
    out.onCompleted();
  }

  @Override
  public void execute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
    if (!sessions.contains(req.getSessionId())) {
      out.onError(Status.NOT_FOUND.withDescription("no session").asRuntimeException());
      return;
    }
    executions.incrementAndGet();
    timer.schedule(
        () -> {
          out.onNext(OK);
          out.onCompleted();
        },
        latencyMs,
        TimeUnit.MILLISECONDS);
  }

  @Override
  public void closeSession(CloseSessionRequest req, StreamObserver<CloseSessionResponse> out) {
    out.onNext(
        CloseSessionResponse.newBuilder().setWasOpen(sessions.remove(req.getSessionId())).build());
    out.onCompleted();
  }

  @Override
  public void getStats(GetStatsRequest req, StreamObserver<SandboxStats> out) {
    out.onNext(
        SandboxStats.newBuilder()
            .setOpenSessions(sessions.size())
            .setExecutionsTotal(executions.get())
            .build());
    out.onCompleted();
  }

  /** Sessions still open (a worker that leaks sessions shows here). */
  public int openSessions() {
    return sessions.size();
  }
}

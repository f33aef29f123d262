package io.rolloutfarm.sandbox;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.CloseSessionRequest;
import io.rolloutfarm.proto.v1.CloseSessionResponse;
import io.rolloutfarm.proto.v1.ExecuteRequest;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.OpenSessionRequest;
import io.rolloutfarm.proto.v1.OpenSessionResponse;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.SandboxStats;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/** {@code SandboxService} over the session registry; failures become gRPC statuses. */
final class SandboxGrpcService extends SandboxServiceGrpc.SandboxServiceImplBase {
  private static final Logger LOG = Logger.getLogger(SandboxGrpcService.class.getName());

  private final SessionRegistry registry;
  private final SandboxMetrics metrics;

  SandboxGrpcService(SessionRegistry registry, SandboxMetrics metrics) {
    this.registry = registry;
    this.metrics = metrics;
  }

  @Override
  public void openSession(
      OpenSessionRequest request, StreamObserver<OpenSessionResponse> observer) {
    long started = System.nanoTime();
    respond(
        observer,
        () -> {
          Session s = registry.open(request);
          return OpenSessionResponse.newBuilder()
              .setSessionId(s.id)
              .setOpenMicros((System.nanoTime() - started) / 1000)
              .build();
        });
  }

  @Override
  public void execute(ExecuteRequest request, StreamObserver<ExecuteResponse> observer) {
    long started = System.nanoTime();
    respond(
        observer,
        () -> {
          ExecuteResponse r =
              registry.execute(request.getSessionId(), request.getCode(), request.getTimeoutMs());
          metrics.executed(
              r.getStatus().name().substring("EXEC_STATUS_".length()).toLowerCase(),
              Duration.ofNanos(System.nanoTime() - started));
          return r;
        });
  }

  @Override
  public void closeSession(
      CloseSessionRequest request, StreamObserver<CloseSessionResponse> observer) {
    respond(
        observer,
        () ->
            CloseSessionResponse.newBuilder()
                .setWasOpen(registry.close(request.getSessionId()))
                .build());
  }

  @Override
  public void getStats(GetStatsRequest request, StreamObserver<SandboxStats> observer) {
    respond(observer, registry::stats);
  }

  private static <T> void respond(StreamObserver<T> observer, Supplier<T> call) {
    T value;
    try {
      value = call.get();
    } catch (StatusRuntimeException e) {
      observer.onError(e);
      return;
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "sandbox call failed", e);
      observer.onError(
          Status.INTERNAL
              .withDescription("sandbox server error: " + e)
              .withCause(e)
              .asRuntimeException());
      return;
    }
    observer.onNext(value);
    observer.onCompleted();
  }
}

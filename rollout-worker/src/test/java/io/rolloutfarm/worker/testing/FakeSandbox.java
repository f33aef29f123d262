package io.rolloutfarm.worker.testing;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.CloseSessionRequest;
import io.rolloutfarm.proto.v1.CloseSessionResponse;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteRequest;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.OpenSessionRequest;
import io.rolloutfarm.proto.v1.OpenSessionResponse;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.SandboxStats;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A sandbox server that runs nothing. It answers Execute from a small script language good enough
 * for tests: {@code print('x')} prints x, {@code raise} raises, {@code plt.show()} returns one 2×1
 * image per occurrence, {@code while True} times out, {@code kill} kills the session. Records every
 * call.
 */
public class FakeSandbox extends SandboxServiceGrpc.SandboxServiceImplBase {
  private static final Pattern PRINT = Pattern.compile("print\\('([^']*)'\\)");

  /** A 2×1 PNG. */
  public static final ByteString TINY_PNG =
      ByteString.copyFrom(
          java.util.Base64.getDecoder()
              .decode(
                  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4zwAE/wEHAAH/4iOeWQAAAABJRU5ErkJggg=="));

  public final Map<String, List<Media>> sessions = new ConcurrentHashMap<>();
  public final List<String> executed = new CopyOnWriteArrayList<>();
  public final List<String> closed = new CopyOnWriteArrayList<>();
  public final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger ids = new AtomicInteger();
  private volatile Function<String, ExecuteResponse> override;

  /** Replaces the script language with a function of the code. */
  public FakeSandbox answering(Function<String, ExecuteResponse> f) {
    this.override = f;
    return this;
  }

  @Override
  public void openSession(OpenSessionRequest req, StreamObserver<OpenSessionResponse> out) {
    String id = "s" + ids.incrementAndGet();
    sessions.put(id, req.getMediaList());
    opened.incrementAndGet();
    out.onNext(OpenSessionResponse.newBuilder().setSessionId(id).build());
    out.onCompleted();
  }

  @Override
  public void execute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
    if (!sessions.containsKey(req.getSessionId())) {
      out.onError(
          Status.NOT_FOUND
              .withDescription("no session " + req.getSessionId())
              .asRuntimeException());
      return;
    }
    executed.add(req.getCode());
    out.onNext(override != null ? override.apply(req.getCode()) : interpret(req.getCode()));
    out.onCompleted();
  }

  /** The default script language. */
  public static ExecuteResponse interpret(String code) {
    ExecuteResponse.Builder r =
        ExecuteResponse.newBuilder().setStatus(ExecStatus.EXEC_STATUS_OK).setSessionAlive(true);
    StringBuilder stdout = new StringBuilder();
    Matcher m = PRINT.matcher(code);
    while (m.find()) {
      stdout.append(m.group(1)).append('\n');
    }
    r.setStdout(stdout.toString());
    int shows = code.split("plt\\.show\\(\\)", -1).length - 1;
    for (int i = 0; i < shows; i++) {
      r.addImages(Image.newBuilder().setPng(TINY_PNG).setWidth(2).setHeight(1));
    }
    if (code.contains("raise")) {
      r.setStatus(ExecStatus.EXEC_STATUS_ERROR)
          .setError("ValueError: boom")
          .setStderr("Traceback (most recent call last):\nValueError: boom");
    } else if (code.contains("while True")) {
      r.setStatus(ExecStatus.EXEC_STATUS_TIMEOUT).setError("wall-clock timeout 10s");
    } else if (code.contains("kill")) {
      r.setStatus(ExecStatus.EXEC_STATUS_KILLED).setError("memory limit").setSessionAlive(false);
    }
    return r.build();
  }

  @Override
  public void closeSession(CloseSessionRequest req, StreamObserver<CloseSessionResponse> out) {
    boolean was = sessions.remove(req.getSessionId()) != null;
    closed.add(req.getSessionId());
    out.onNext(CloseSessionResponse.newBuilder().setWasOpen(was).build());
    out.onCompleted();
  }

  @Override
  public void getStats(GetStatsRequest req, StreamObserver<SandboxStats> out) {
    out.onNext(SandboxStats.newBuilder().setOpenSessions(sessions.size()).build());
    out.onCompleted();
  }
}

package io.rolloutfarm.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.OpenSessionRequest;
import io.rolloutfarm.proto.v1.OpenSessionResponse;
import io.rolloutfarm.worker.testing.FakeSandbox;
import io.rolloutfarm.worker.testing.InProcess;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class GrpcSandboxesTest {
  @Test
  void targetListsAreCheckedWithTheOffendingEntryNamed() {
    assertThat(GrpcSandboxes.parseTargets("a:1, b:2,dns:///sandbox-headless:50051"))
        .containsExactly("a:1", "b:2", "dns:///sandbox-headless:50051");
    assertThatThrownBy(() -> GrpcSandboxes.parseTargets("a:1,nohost"))
        .hasMessageContaining("sandbox target 'nohost': expected HOST:PORT");
    assertThatThrownBy(() -> GrpcSandboxes.parseTargets("a:99999"))
        .hasMessageContaining("port must be a number in 1..65535");
    assertThatThrownBy(() -> GrpcSandboxes.parseTargets(" , ")).hasMessageContaining("is empty");
  }

  @Test
  void dnsTargetsResolveToOneEndpointPerAddressSoSessionsStayOnTheirServer() {
    try (GrpcSandboxes s =
        GrpcSandboxes.connect(
            "dns:///localhost:50051,10.0.0.7:9", GrpcSandboxes.Deadlines.defaults(), 0)) {
      assertThat(s.endpoints()).contains("127.0.0.1:50051", "10.0.0.7:9");
      assertThat(s.endpoints()).noneMatch(e -> e.startsWith("dns:"));
    }
  }

  /** Opens sessions only when the test lets it, after the client may have given up. */
  static final class SlowOpeningSandbox extends FakeSandbox {
    final CountDownLatch arrived = new CountDownLatch(1);
    final CountDownLatch proceed = new CountDownLatch(1);

    @Override
    public void openSession(OpenSessionRequest req, StreamObserver<OpenSessionResponse> out) {
      arrived.countDown();
      try {
        proceed.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      super.openSession(req, out);
    }
  }

  @Test
  void aTrajectoryCancelledWhileItsSessionOpensClosesThatSessionInsteadOfLeakingIt()
      throws Exception {
    SlowOpeningSandbox sandbox = new SlowOpeningSandbox();
    try (InProcess server = new InProcess(sandbox);
        GrpcSandboxes sandboxes =
            GrpcSandboxes.ofChannels(
                Map.of("slow", server.channel), GrpcSandboxes.Deadlines.defaults(), 0)) {
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      Thread trajectory =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      sandboxes.open(List.of(), "t", Set.of());
                    } catch (Throwable t) {
                      thrown.set(t);
                    }
                  });
      assertThat(sandbox.arrived.await(10, TimeUnit.SECONDS)).isTrue();
      trajectory.interrupt();
      Thread.sleep(100);
      sandbox.proceed.countDown();
      trajectory.join(10_000);

      assertThat(thrown.get()).isInstanceOf(CancellationException.class);
      assertThat(sandbox.opened.get()).isEqualTo(1);
      assertThat(sandbox.closed).hasSize(1);
      assertThat(sandbox.sessions).isEmpty();
    }
  }
}

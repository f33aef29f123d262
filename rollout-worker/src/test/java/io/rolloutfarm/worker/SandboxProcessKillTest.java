package io.rolloutfarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.Verifier;
import io.rolloutfarm.worker.agent.AgentLoop;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.Context;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.policy.Generation;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.policy.PolicyFacts;
import io.rolloutfarm.worker.policy.Sampling;
import io.rolloutfarm.worker.policy.ScriptedPolicy;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.sandbox.SandboxProcess;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * A real sandbox server process, killed with SIGKILL while it holds a trajectory's session, makes
 * the agent loop restart the trajectory on the other sandbox server, where it completes.
 */
class SandboxProcessKillTest {
  private static final String F = "```";
  private static final List<String> CHILD_JVM =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  @Test
  void aSandboxProcessKilledMidTrajectoryIsRetriedOnTheOtherServerAndCompletes() throws Exception {
    Path root =
        Files.createDirectories(
            Path.of("target", "sandbox-work", "kill-" + System.nanoTime()).toAbsolutePath());
    CompletableFuture<SandboxProcess> startA = startAsync(root.resolve("a"));
    CompletableFuture<SandboxProcess> startB = startAsync(root.resolve("b"));
    try (SandboxProcess a = startA.join();
        SandboxProcess b = startB.join();
        GrpcSandboxes sandboxes =
            GrpcSandboxes.connect(
                a.targets() + "," + b.targets(), GrpcSandboxes.Deadlines.defaults(), 0)) {
      List<SandboxProcess> processes = List.of(a, b);
      AtomicReference<SandboxProcess> killed = new AtomicReference<>();
      AtomicReference<Boolean> familyGone = new AtomicReference<>();
      // Turn 1 leaves state in the session; before turn 2 runs, the server holding it dies.
      Policy policy =
          new KillingPolicy(
              List.of(
                  code("x = 41\nprint('x set')"),
                  code("print(x + 1)"),
                  "It is 42.\n<answer>\\boxed{42}</answer>"),
              2,
              () -> {
                SandboxProcess holder = holderOfTheOnlySession(processes);
                killed.set(holder);
                try {
                  familyGone.set(holder.kill(Duration.ofSeconds(30)));
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      WorkerMetrics metrics = WorkerMetrics.inMemory();

      Trajectory t =
          new AgentLoop(policy, sandboxes, AgentSettings.defaults(), metrics).run(task("42"));

      assertThat(killed.get()).as("a server held the session when turn 2 began").isNotNull();
      assertThat(familyGone.get())
          .as("the killed JVM, its Python runtime and its sessions are gone")
          .isTrue();
      assertThat(t.getEndReason()).as(t.getFailureMessage()).isEqualTo(EndReason.END_REASON_DONE);
      assertThat(t.getAttempt()).isEqualTo(1);
      assertThat(t.getTurnsCount()).isEqualTo(3);
      // The retry started from scratch on the survivor: turn 1 ran again there, so x exists.
      assertThat(t.getTurns(0).getObservation().getStdout()).isEqualTo("x set\n");
      assertThat(t.getTurns(1).getObservation().getStdout()).isEqualTo("42\n");
      assertThat(t.getReward().getAccuracy()).isEqualTo(1.0);
      assertThat(t.getReward().getTotal()).isEqualTo(1.2);
      assertThat(
              metrics
                  .registry()
                  .get("rollout.infra.retries")
                  .tag("kind", "sandbox")
                  .counter()
                  .count())
          .isEqualTo(1.0);
      SandboxProcess survivor = killed.get() == a ? b : a;
      assertThat(survivor.handle().isAlive()).isTrue();
      assertThat(openSessions(survivor)).as("the survivor's session was closed").isZero();
    }
  }

  private static CompletableFuture<SandboxProcess> startAsync(Path root) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return SandboxProcess.start(1, 2, root, CHILD_JVM, Duration.ofSeconds(120));
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private static SandboxProcess holderOfTheOnlySession(List<SandboxProcess> processes) {
    List<SandboxProcess> holders = new ArrayList<>();
    for (SandboxProcess p : processes) {
      if (openSessions(p) == 1) {
        holders.add(p);
      }
    }
    assertThat(holders).as("exactly one server holds the session").hasSize(1);
    return holders.get(0);
  }

  private static int openSessions(SandboxProcess p) {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", p.ports().get(0)).usePlaintext().build();
    try {
      return SandboxServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .getStats(GetStatsRequest.getDefaultInstance())
          .getOpenSessions();
    } finally {
      channel.shutdownNow();
    }
  }

  /** Replays responses; just before generating turn {@code killBefore} the first time, kills. */
  private static final class KillingPolicy implements Policy {
    private final ScriptedPolicy script;
    private final int killBefore;
    private Runnable kill;

    KillingPolicy(List<String> responses, int killBefore, Runnable kill) {
      this.script = new ScriptedPolicy(responses, "test");
      this.killBefore = killBefore;
      this.kill = kill;
    }

    @Override
    public PolicyFacts facts() {
      return script.facts();
    }

    @Override
    public int[] tokenize(String text) throws PolicyFailure {
      return script.tokenize(text);
    }

    @Override
    public Generation generate(Context context, Sampling sampling, String requestId)
        throws PolicyFailure {
      if (requestId.endsWith("/t" + killBefore) && kill != null) {
        Runnable once = kill;
        kill = null;
        once.run();
      }
      return script.generate(context, sampling, requestId);
    }

    @Override
    public String describe() {
      return "killing " + script.describe();
    }
  }

  private static String code(String python) {
    return "<code>\n" + F + "python\n" + python + "\n" + F + "\n</code>";
  }

  private static Task task(String answer) throws IOException {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(16, 8, BufferedImage.TYPE_INT_RGB), "png", png);
    return Task.newBuilder()
        .setTaskId("kill")
        .setPromptId("kill")
        .setQuestion("What is x + 1?")
        .setAnswer(answer)
        .addMedia(
            Media.newBuilder()
                .setName("image_clue_0")
                .setMimeType("image/png")
                .setData(ByteString.copyFrom(png.toByteArray())))
        .setVerifier(Verifier.newBuilder().setKind("exact"))
        .build();
  }
}

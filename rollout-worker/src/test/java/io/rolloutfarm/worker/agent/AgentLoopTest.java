package io.rolloutfarm.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.Turn;
import io.rolloutfarm.proto.v1.VideoInfo;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.policy.ByteTokenizer;
import io.rolloutfarm.worker.policy.Generation;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.policy.PolicyFacts;
import io.rolloutfarm.worker.policy.Sampling;
import io.rolloutfarm.worker.policy.ScriptedPolicy;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.testing.FakeSandbox;
import io.rolloutfarm.worker.testing.InProcess;
import io.rolloutfarm.worker.testing.Tasks;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AgentLoopTest {
  private static final String F = "```";
  private final FakeSandbox sandbox = new FakeSandbox();
  private final InProcess server = new InProcess(sandbox);
  private final WorkerMetrics metrics = WorkerMetrics.inMemory();
  private AgentSettings settings = AgentSettings.defaults();

  @AfterEach
  void tearDown() throws InterruptedException {
    server.close();
  }

  private static String code(String body) {
    return "Let me check.\n<code>\n" + F + "python\n" + body + "\n" + F + "\n</code>";
  }

  private Trajectory run(Task task, String... responses) {
    return run(task, Map.of("a", server.channel), responses);
  }

  private Trajectory run(Task task, Map<String, Channel> channels, String... responses) {
    try (GrpcSandboxes sandboxes =
        GrpcSandboxes.ofChannels(
            new LinkedHashMap<>(channels), GrpcSandboxes.Deadlines.defaults(), 0)) {
      AgentLoop loop =
          new AgentLoop(
              new ScriptedPolicy(List.of(responses), "test"), sandboxes, settings, metrics);
      return loop.run(task);
    }
  }

  private static String decode(Trajectory t, int from, int count) {
    int[] ids = t.getTokenIdsList().subList(from, from + count).stream().mapToInt(i -> i).toArray();
    return ByteTokenizer.decode(ids);
  }

  private static long imagePlaceholders(Trajectory t) {
    return t.getTokenIdsList().stream().filter(i -> i == ByteTokenizer.IMAGE_TOKEN).count();
  }

  /** Mask is 1 exactly on generated tokens; logprobs 0 elsewhere; segments tile the context. */
  private static void assertTokenLayout(Trajectory t) {
    int n = t.getTokenIdsCount();
    assertThat(t.getLogprobsCount()).isEqualTo(n);
    assertThat(t.getLossMaskCount()).isEqualTo(n);
    int[] expected = new int[n];
    int pos = t.getPromptTokens();
    for (Turn turn : t.getTurnsList()) {
      assertThat(turn.getGeneratedStart()).isEqualTo(pos);
      Arrays.fill(
          expected,
          turn.getGeneratedStart(),
          turn.getGeneratedStart() + turn.getGeneratedCount(),
          1);
      pos += turn.getGeneratedCount();
      if (turn.getObservationCount() > 0) {
        assertThat(turn.getObservationStart()).isEqualTo(pos);
        pos += turn.getObservationCount();
      }
    }
    assertThat(pos).isEqualTo(n);
    for (int i = 0; i < n; i++) {
      assertThat(t.getLossMask(i)).as("mask at %d", i).isEqualTo(expected[i]);
      if (expected[i] == 0) {
        assertThat(t.getLogprobs(i)).isEqualTo(0f);
      }
    }
  }

  @Test
  void toolCallThenAnswerIsDoneWithObservationInContextAndToolBonus() {
    Trajectory t =
        run(
            Tasks.imageTask("t1", "1", "numeric"),
            code("print('1')\nplt.show()"),
            "It prints 1.\n<answer>\\boxed{1}</answer>");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
    assertThat(t.getAnswer()).isEqualTo("1");
    assertThat(t.getToolCalls()).isEqualTo(1);
    assertThat(t.getTurnsCount()).isEqualTo(2);
    assertThat(t.getReward().getAccuracy()).isEqualTo(1.0);
    assertThat(t.getReward().getToolBonus()).isEqualTo(0.1);
    assertThat(t.getReward().getTotal()).isEqualTo(1.1);
    Turn first = t.getTurns(0);
    assertThat(first.getCode()).isEqualTo("print('1')\nplt.show()\n");
    assertThat(first.getText()).endsWith("</code>");
    assertThat(first.getObservation().getRendered())
        .isEqualTo(
            "<interpreter>Text Result:\n1\n\nImage Result:\n<image_clue_1><image></image_clue_1></interpreter>");
    assertThat(first.getObservation().getImagesCount()).isEqualTo(1);
    // The observation enters the context as text plus one image placeholder.
    assertThat(decode(t, first.getObservationStart(), first.getObservationCount()))
        .isEqualTo(
            "<interpreter>Text Result:\n1\n\nImage Result:\n<image_clue_1></image_clue_1></interpreter>\n");
    assertThat(imagePlaceholders(t)).isEqualTo(2); // the task image and the plot
    assertThat(decode(t, 0, t.getPromptTokens()))
        .contains("How many red pixels?")
        .contains("image_clue_0: ")
        .contains("<answer>\\boxed{...}</answer>");
    assertTokenLayout(t);
    assertThat(sandbox.opened.get()).isEqualTo(1);
    assertThat(sandbox.closed).hasSize(1);
    assertThat(sandbox.sessions).isEmpty();
    assertThat(t.getTimings().getFinishedUnixMs())
        .isGreaterThanOrEqualTo(t.getTimings().getStartedUnixMs());
  }

  @Test
  void sandboxReceivesTheTaskMediaUnderPyVisionNames() {
    run(Tasks.imageTask("t", "1", "exact"), code("print('1')"), "<answer>\\boxed{1}</answer>");
    assertThat(sandbox.executed).containsExactly("print('1')\n");
    assertThat(sandbox.closed).hasSize(1);
  }

  @Test
  void turnBudgetEndsWithExceedMaxTurnsWithoutRunningTheLastCode() {
    settings = settings.withLimits(2, 1024, 16384, 16);
    Trajectory t = run(Tasks.imageTask("t", "1", "exact"), code("print('a')"), code("print('b')"));
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_EXCEED_MAX_TURNS);
    assertThat(t.getToolCalls()).isEqualTo(1);
    assertThat(sandbox.executed).containsExactly("print('a')\n");
    assertThat(t.getTurns(1).getCode()).isEqualTo("print('b')\n");
    assertThat(t.getReward().getTotal()).isEqualTo(0.0);
    assertTokenLayout(t);
  }

  @Test
  void executionErrorIsShownToTheModelByDefault() {
    Trajectory t =
        run(
            Tasks.imageTask("t", "1", "exact"),
            code("raise ValueError('boom')"),
            "<answer>\\boxed{1}</answer>");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
    assertThat(t.getTurns(0).getObservation().getRendered())
        .isEqualTo(
            "<interpreter>Error:\nTraceback (most recent call last):\nValueError: boom</interpreter>");
    assertTokenLayout(t);
  }

  @Test
  void executionErrorEndsTheTrajectoryWhenConfigured() {
    settings = settings.withEndOnExecutionError(true);
    Trajectory t =
        run(
            Tasks.imageTask("t", "1", "exact"),
            code("raise ValueError('boom')"),
            "<answer>\\boxed{1}</answer>");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_ERROR_IN_ACTION);
    assertThat(t.getTurnsCount()).isEqualTo(1);
    assertThat(t.getTurns(0).getObservation().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(t.getReward().getTotal()).isEqualTo(0.0);
    assertTokenLayout(t);
  }

  @Test
  void aKilledSessionEndsWithErrorInActionEvenWhenErrorsAreShown() {
    Trajectory t =
        run(Tasks.imageTask("t", "1", "exact"), code("kill()"), "<answer>\\boxed{1}</answer>");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_ERROR_IN_ACTION);
    assertThat(t.getFailureMessage()).contains("EXEC_STATUS_KILLED").contains("memory limit");
  }

  @Test
  void aTimeoutThatKeptTheSessionIsAnObservation() {
    Trajectory t =
        run(
            Tasks.imageTask("t", "1", "exact"),
            code("while True: pass"),
            "<answer>\\boxed{1}</answer>");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
    assertThat(t.getTurns(0).getObservation().getRendered())
        .isEqualTo("<interpreter>Error:\nTimeout: wall-clock timeout 10s</interpreter>");
  }

  @Test
  void aTurnOverThePerTurnTokenLimitIsOverLength() {
    settings = settings.withLimits(5, 20, 16384, 16);
    Trajectory t = run(Tasks.imageTask("t", "1", "exact"), code("print('" + "x".repeat(50) + "')"));
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_OVER_LENGTH);
    assertThat(t.getTurns(0).getGeneratedCount()).isEqualTo(20);
    assertThat(sandbox.executed).isEmpty();
    assertTokenLayout(t);
  }

  @Test
  void aContextOverTheTotalTokenLimitIsOverLength() {
    settings = settings.withLimits(5, 1024, 400, 16);
    Trajectory t =
        run(
            Tasks.imageTask("t", "1", "exact"),
            code("print('" + "y".repeat(150) + "')"),
            code("print('z')"),
            "<answer>\\boxed{1}</answer>");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_OVER_LENGTH);
    assertThat(t.getTokenIdsCount()).isLessThanOrEqualTo(400);
    assertTokenLayout(t);
  }

  @Test
  void aTurnWithNeitherCodeNorAnswerIsAFormatError() {
    Trajectory t = run(Tasks.imageTask("t", "1", "exact"), "I believe it is one.");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_FORMAT_ERROR);
    assertThat(t.getFailureMessage()).contains("neither code nor an answer");
    assertThat(t.getReward().getTotal()).isEqualTo(0.0);
  }

  @Test
  void anUnclosedAnswerIsAFormatError() {
    Trajectory t = run(Tasks.imageTask("t", "1", "exact"), "<answer>\\boxed{1}");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_FORMAT_ERROR);
  }

  @Test
  void anAnswerInTheSameTurnAsCodeEndsWithoutRunningTheCode() {
    Trajectory t =
        run(
            Tasks.imageTask("t", "1", "exact"),
            "<answer>\\boxed{1}</answer>\n" + code("print('x')"));
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
    assertThat(sandbox.executed).isEmpty();
    assertThat(t.getToolCalls()).isZero();
  }

  @Test
  void imagesBeyondTheContextLimitAreDroppedAndSaidSo() {
    settings = settings.withLimits(5, 1024, 16384, 2);
    Trajectory t =
        run(
            Tasks.imageTask("t", "1", "exact"),
            code("plt.show()\nplt.show()\nplt.show()"),
            "<answer>\\boxed{1}</answer>");
    var obs = t.getTurns(0).getObservation();
    assertThat(obs.getImagesCount()).isEqualTo(1);
    assertThat(obs.getImagesDropped()).isEqualTo(2);
    assertThat(obs.getRendered())
        .contains("(2 images not shown: the context image limit is reached)");
    assertThat(imagePlaceholders(t)).isEqualTo(2);
  }

  @Test
  void videoGoesOnlyToTheSandboxAndThePromptCarriesItsMetadata() {
    Task video =
        Task.newBuilder()
            .setTaskId("v")
            .setPromptId("v")
            .setQuestion("When does the ball stop?")
            .setAnswer("42")
            .addMedia(
                Media.newBuilder()
                    .setName("video_clue_0")
                    .setMimeType("video/mp4")
                    .setData(ByteString.copyFromUtf8("not really an mp4")))
            .setVideoInfo(
                VideoInfo.newBuilder().setFrameCount(120).setFps(30).setWidth(64).setHeight(48))
            .build();
    Trajectory t = run(video, code("print('42')"), "<answer>\\boxed{42}</answer>");
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
    assertThat(imagePlaceholders(t)).isZero();
    String prompt = decode(t, 0, t.getPromptTokens());
    assertThat(prompt).contains("Video: 120 frames, 30.00 fps, 64x48.").contains("video_clue_0");
    assertThat(prompt).doesNotContain("not really an mp4");
  }

  @Test
  void aDeadSandboxIsRetriedOnAnotherAndTheTrajectoryCompletes() throws Exception {
    FakeSandbox dying = new FakeSandbox();
    try (InProcess dead = new InProcess(dying)) {
      dying.answering(
          code -> {
            dead.kill(); // the server process dies mid-trajectory
            return FakeSandbox.interpret(code);
          });
      Map<String, Channel> both = new LinkedHashMap<>();
      both.put("dying", dead.channel);
      both.put("healthy", server.channel);
      Trajectory t =
          run(
              Tasks.imageTask("t", "1", "exact"),
              both,
              code("print('1')"),
              "<answer>\\boxed{1}</answer>");
      assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
      assertThat(t.getAttempt()).isEqualTo(1);
      assertThat(t.getReward().getTotal()).isEqualTo(1.1);
      assertThat(dying.opened.get()).isEqualTo(1);
      assertThat(sandbox.opened.get()).isEqualTo(1);
      assertThat(sandbox.executed).containsExactly("print('1')\n");
      assertTokenLayout(t);
    }
  }

  @Test
  void sandboxFailuresBeyondTheRetryBudgetEndUnscored() throws Exception {
    server.kill();
    Trajectory t = run(Tasks.imageTask("t", "1", "exact"), code("print('1')"));
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_SANDBOX_FAILURE);
    assertThat(t.hasReward()).isFalse();
    assertThat(t.getAttempt()).isEqualTo(AgentSettings.DEFAULT_INFRA_RETRIES);
    assertThat(t.getFailureMessage()).contains("open session on a");
  }

  @Test
  void policyFailureEndsUnscored() {
    Trajectory t = run(Tasks.imageTask("t", "1", "exact"), code("print('1')"));
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_POLICY_FAILURE);
    assertThat(t.hasReward()).isFalse();
    assertThat(t.getFailureMessage()).contains("has 1 responses; turn 2 needs another");
    // Not retryable: the script would run out again.
    assertThat(t.getAttempt()).isZero();
  }

  /** A scripted policy whose server fails transiently on its first {@code failures} calls. */
  private static final class FlakyPolicy implements Policy {
    private final ScriptedPolicy script;
    private final AtomicInteger failuresLeft;

    FlakyPolicy(int failures, String... responses) {
      this.script = new ScriptedPolicy(List.of(responses), "flaky");
      this.failuresLeft = new AtomicInteger(failures);
    }

    @Override
    public PolicyFacts facts() {
      return script.facts();
    }

    @Override
    public int[] tokenize(String text) {
      return script.tokenize(text);
    }

    @Override
    public Generation generate(Context context, Sampling sampling, String requestId)
        throws PolicyFailure {
      if (failuresLeft.getAndDecrement() > 0) {
        throw new PolicyFailure("policy server unavailable", null, true);
      }
      return script.generate(context, sampling, requestId);
    }

    @Override
    public String describe() {
      return "flaky";
    }
  }

  private Trajectory runWith(Policy policy, Task task) {
    try (GrpcSandboxes sandboxes =
        GrpcSandboxes.ofChannels(
            new LinkedHashMap<>(Map.of("a", server.channel)),
            GrpcSandboxes.Deadlines.defaults(),
            0)) {
      return new AgentLoop(policy, sandboxes, settings, metrics).run(task);
    }
  }

  private double retries(String kind) {
    return metrics.registry().get("rollout.infra.retries").tag("kind", kind).counter().count();
  }

  @Test
  void aTransientPolicyFailureIsRetriedAndTheTrajectoryCompletes() {
    Trajectory t =
        runWith(
            new FlakyPolicy(1, code("print('1')"), "<answer>\\boxed{1}</answer>"),
            Tasks.imageTask("t", "1", "exact"));
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
    assertThat(t.getAttempt()).isEqualTo(1);
    assertThat(t.getReward().getTotal()).isEqualTo(1.1);
    assertThat(retries("policy")).isEqualTo(1.0);
    assertThat(retries("sandbox")).isZero();
    assertTokenLayout(t);
  }

  @Test
  void policyFailuresBeyondTheRetryBudgetEndUnscored() {
    Trajectory t =
        runWith(
            new FlakyPolicy(Integer.MAX_VALUE, code("print('1')")),
            Tasks.imageTask("t", "1", "exact"));
    assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_POLICY_FAILURE);
    assertThat(t.hasReward()).isFalse();
    assertThat(t.getAttempt()).isEqualTo(AgentSettings.DEFAULT_INFRA_RETRIES);
    assertThat(t.getFailureMessage()).contains("policy server unavailable");
    assertThat(retries("policy")).isEqualTo(AgentSettings.DEFAULT_INFRA_RETRIES);
    // No sandbox session is left open by the failed attempts.
    assertThat(sandbox.closed).hasSize(sandbox.opened.get());
  }
}

package io.rolloutfarm.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rolloutfarm.learner.metrics.StepMetrics;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a local run shows and derives, without starting anything. */
class LocalConsoleTest {

  @Test
  void stepFiguresGainTrajectoriesPerSecondAndTheTotalFilterRatio() {
    Map<String, Double> step = new LinkedHashMap<>();
    step.put("trajectories", 36.0);
    step.put("step_seconds", 12.0);
    step.put("filter_ratio_zero_reward_std", 0.5);
    step.put("filter_ratio_infra_failure", 0.25);
    step.put(RunReport.REWARD_MEAN, 0.4);
    Map<String, Double> m = LocalMetrics.forReport(step);
    assertThat(m.get(RunReport.TRAJECTORIES_PER_S)).isEqualTo(3.0);
    assertThat(m.get(LocalMetrics.FILTERED)).isEqualTo(0.75);
    assertThat(LocalMetrics.describe(step))
        .isEqualTo("reward 0.400  acc 0.00  tools/traj 0.00  filtered 75%  3.0 traj/s");
  }

  @Test
  void conditionsFollowThePhaseAndTheFlowOfTrajectories() {
    LocalConditions c = new LocalConditions(Duration.ofSeconds(30));
    long t = 1_000_000_000L;
    RunStatus warmup =
        RunStatus.newBuilder()
            .setPhase(RunPhase.RUN_PHASE_WARMUP)
            .setHealthy(true)
            .setTotalSteps(10)
            .build();
    LocalConditions.Snapshot s = c.observe(warmup, 1, 1, false, t);
    assertThat(s.condition("LearnerReady")).isTrue();
    assertThat(s.condition("SandboxPoolReady")).isTrue();
    assertThat(s.condition("RolloutsFlowing")).isFalse();
    assertThat(s.condition("Progressing")).isTrue();

    RunStatus training =
        warmup.toBuilder()
            .setPhase(RunPhase.RUN_PHASE_TRAINING)
            .setActiveLeases(8)
            .setStep(3)
            .build();
    assertThat(c.observe(training, 1, 2, true, t + 1).condition("RolloutsFlowing")).isTrue();
    // One of two sandbox servers down: the pool is not ready, so neither is the run.
    assertThat(c.observe(training, 1, 2, true, t + 2).condition("SandboxPoolReady")).isFalse();
    assertThat(c.observe(training, 1, 2, true, t + 2).condition("Ready")).isFalse();
    // Nothing arrives for longer than the window: rollouts no longer flow.
    RunStatus idle = training.toBuilder().setActiveLeases(0).build();
    c.observe(idle, 1, 1, true, t + 3);
    assertThat(
            c.observe(idle, 1, 1, true, t + Duration.ofMinutes(1).toNanos())
                .condition("RolloutsFlowing"))
        .isFalse();

    RunStatus done = idle.toBuilder().setPhase(RunPhase.RUN_PHASE_COMPLETE).setStep(10).build();
    LocalConditions.Snapshot end = c.observe(done, 1, 1, false, t + 4);
    assertThat(end.condition("Complete")).isTrue();
    assertThat(end.condition("Progressing")).isFalse();
    assertThat(end.condition("Ready")).isFalse();
  }

  @Test
  void theConsolePrintsKubectlRowsOnChangeAndConditionTransitionsOnce() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    LocalConditions c = new LocalConditions(Duration.ofSeconds(30));
    try (RunConsole console = new RunConsole(out, "demo", 4, 0, false)) {
      RunStatus s =
          RunStatus.newBuilder()
              .setPhase(RunPhase.RUN_PHASE_TRAINING)
              .setHealthy(true)
              .setTotalSteps(4)
              .setStep(1)
              .putMetrics(RunReport.REWARD_MEAN, 0.25)
              .build();
      console.status(c.observe(s, 1, 1, true, 1));
      console.status(c.observe(s, 1, 1, true, 2));
      console.step(
          new StepMetrics(
              "train",
              2,
              5,
              Instant.now(),
              Map.of("reward_mean", 0.5, "trajectories", 8.0, "step_seconds", 2.0)));
    }
    String text = buf.toString(StandardCharsets.UTF_8);
    assertThat(text.lines().findFirst().orElseThrow())
        .startsWith("NAME")
        .contains("READY", "STEP", "REWARD", "SANDBOXES", "AGE");
    assertThat(text).containsOnlyOnce("LearnerReady=True");
    assertThat(text).containsOnlyOnce("demo ");
    assertThat(text).contains("1/4", "0.250", "1/1");
    assertThat(text).contains("step 2/4  reward 0.500", "4.0 traj/s");
  }

  @Test
  void anAnswerOnlyDemonstrationKeepsTheLastObservationAndImitatesOnlyTheAnswer() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode demo =
        (ObjectNode)
            json.readTree(
                """
                {"id": "expert/x", "segments": [
                  {"text": "prompt"},
                  {"text": "<code>print(1)</code>", "train": true},
                  {"text": "<interpreter>Text Result:\\n1\\n</interpreter>"},
                  {"text": "<answer>\\\\boxed{1}</answer>", "train": true},
                  {"text": "<|eos|>", "train": true}]}
                """);
    ObjectNode copy = DemonstrationWriter.answerOnly(demo, "expert-answer/x");
    assertThat(copy.get("id").asText()).isEqualTo("expert-answer/x");
    // Only the last observation stays as context: the answer is read off it.
    assertThat(copy.get("segments")).hasSize(3);
    assertThat(copy.get("segments").get(0).get("text").asText()).startsWith("<interpreter>");
    assertThat(copy.get("segments").get(0).has("train")).isFalse();
    assertThat(copy.get("segments").get(1).get("train").asBoolean()).isTrue();
    assertThat(copy.get("segments").get(2).get("train").asBoolean()).isTrue();
    // The original is untouched.
    assertThat(demo.get("segments").get(1).get("train").asBoolean()).isTrue();
  }
}

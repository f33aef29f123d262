package io.rolloutfarm.learner;

import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.learner.engine.EngineSupervisor;
import io.rolloutfarm.learner.engine.PythonEngineLauncher;
import io.rolloutfarm.learner.metrics.StepMetrics;
import io.rolloutfarm.learner.testing.RunFiles;
import io.rolloutfarm.learner.testing.ScriptedWorker;
import io.rolloutfarm.learner.train.Demonstration;
import io.rolloutfarm.learner.train.DemonstrationReader;
import io.rolloutfarm.learner.train.WarmupDriver;
import io.rolloutfarm.proto.v1.EngineInfo;
import io.rolloutfarm.proto.v1.GenerateResponse;
import io.rolloutfarm.proto.v1.SupervisedStepResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learner against the real PyTorch engine process (a very small built-in model on CPU):
 * behaviour cloning, crash recovery, GRPO learning and checkpoint/resume.
 */
@Timeout(300)
class RealEngineTest {
  @TempDir Path dir;

  static final String SMALL_MODEL =
      """
      model:
        builtin: tiny
        engineOptions:
          d_model: "32"
          n_layers: "2"
          n_heads: "2"
          d_ff: "64"
          max_context: "128"
          image_size: "16"
          patch_size: "8"
      """;

  static final String SMALL_MODEL_ARG =
      "builtin:{\"d_ff\":64,\"d_model\":32,\"image_size\":16,\"max_context\":128,"
          + "\"n_heads\":2,\"n_layers\":2,\"patch_size\":8}";

  private EngineSupervisor supervisor(String logName) {
    return new EngineSupervisor(
        new PythonEngineLauncher(
            new PythonEngineLauncher.EngineCommand(SMALL_MODEL_ARG, 3, "cpu", 1),
            dir.resolve(logName),
            Duration.ofMinutes(2)),
        new EngineSupervisor.Options(
            Duration.ofMinutes(2),
            Duration.ofMillis(500),
            Duration.ofMillis(100),
            Duration.ofSeconds(2),
            3,
            Duration.ofSeconds(60),
            Duration.ofSeconds(60),
            Duration.ofSeconds(120)));
  }

  @Test
  void behaviourCloningReducesTheLoss() throws Exception {
    Path demos = dir.resolve("demos.jsonl");
    Files.writeString(
        demos,
        """
        {"id": "a", "segments": [{"text": "Q: 2+2?"}, {"text": " A: 4", "train": true}, {"tokens": [258], "train": true}]}
        {"id": "b", "segments": [{"text": "Q: 3+3?"}, {"text": " A: 6", "train": true}, {"tokens": [258], "train": true}]}
        """);
    try (EngineSupervisor engine = supervisor("bc.log")) {
      EngineInfo info = engine.start();
      assertThat(info.getTorchVersion()).isNotEmpty();
      List<Demonstration> ds =
          DemonstrationReader.read(
              demos, t -> engine.tokenize(t).getTokenIdsList(), info.getImageTokenId());
      List<StepMetrics> seen = new ArrayList<>();
      WarmupDriver driver = new WarmupDriver(engine, ds, 2, 1e-2, 1.0, 3, seen::add);
      SupervisedStepResponse first = driver.step(1);
      SupervisedStepResponse last = first;
      for (int i = 2; i <= 30; i++) {
        last = driver.step(i);
      }
      assertThat(last.getLoss()).isLessThan(first.getLoss() * 0.5);
      assertThat(last.getPolicyVersion()).isEqualTo(30);
      assertThat(seen).hasSize(30);
    }
  }

  @Test
  void aKilledEngineProcessIsRestartedFromTheLastCheckpoint() throws Exception {
    try (EngineSupervisor engine = supervisor("crash.log")) {
      engine.start();
      Path ck = dir.resolve("ck");
      Files.writeString(
          dir.resolve("d.jsonl"),
          "{\"segments\": [{\"text\": \"hi\"}, {\"text\": \"!\", \"train\": true}]}\n");
      List<Demonstration> ds =
          DemonstrationReader.read(
              dir.resolve("d.jsonl"), t -> engine.tokenize(t).getTokenIdsList(), 259);
      WarmupDriver driver = new WarmupDriver(engine, ds, 1, 1e-3, 1.0, 0, m -> {});
      driver.step(1);
      driver.step(2);
      engine.saveCheckpoint(ck);
      engine.setLastCheckpoint(ck);
      driver.step(3); // lost with the crash
      long pid = engine.enginePid().orElseThrow();

      ProcessHandle engineProcess = ProcessHandle.of(pid).orElseThrow();
      assertThat(engineProcess.destroyForcibly()).isTrue();
      engineProcess.onExit().get(30, TimeUnit.SECONDS);
      // The next call waits for the restart and sees the checkpoint's version.
      assertThat(engine.info().getPolicyVersion()).isEqualTo(2);
      assertThat(engine.restarts()).isEqualTo(1);
      assertThat(engine.enginePid().orElseThrow()).isNotEqualTo(pid);
      assertThat(driver.step(4).getPolicyVersion()).isEqualTo(3);
      assertThat(Files.readString(dir.resolve("crash.log"))).contains("engine incarnation 1");
    }
  }

  static final String TOY_ALGORITHM =
      """
      groupSize: 8
      oversampleBatchSize: 4
      trainBatchSize: 4
      learningRate: 0.01
      maxGradNorm: 1.0
      """;

  /** Toy task: reward is the fraction of generated tokens that are ASCII letters 'a'..'z'. */
  static double lowercaseFraction(io.rolloutfarm.proto.v1.Task task, GenerateResponse g) {
    if (g.getTokenIdsCount() == 0) {
      return 0;
    }
    long hits = g.getTokenIdsList().stream().filter(t -> t >= 'a' && t <= 'z').count();
    return (double) hits / g.getTokenIdsCount();
  }

  @Test
  void grpoOnAToyTaskRaisesTheMeanRewardAndResumesFromItsCheckpoint() throws Exception {
    RunFiles.dataset(dir, 8);
    RunFile run = RunFiles.write(dir, 12, TOY_ALGORITHM, SMALL_MODEL);
    List<StepMetrics> steps = new CopyOnWriteArrayList<>();
    LearnerOptions options = LearnerOptions.local().withEngine("cpu", 1);
    try (Learner learner = Learner.create(run, dir.resolve("work"), options)) {
      learner.addStepListener(
          m -> {
            if (m.phase().equals("train")) {
              steps.add(m);
            }
          });
      int port = learner.start().grpc();
      try (ScriptedWorker w = new ScriptedWorker("w", port, 4, RealEngineTest::lowercaseFraction)) {
        assertThat(learner.awaitCompletion(Duration.ofMinutes(4))).isTrue();
      }
      assertThat(learner.status().getPhase())
          .isEqualTo(io.rolloutfarm.proto.v1.RunPhase.RUN_PHASE_COMPLETE);
    }
    assertThat(steps).hasSize(12);
    double early =
        steps.subList(0, 3).stream().mapToDouble(m -> m.get("reward_mean")).average().orElseThrow();
    double late =
        steps.subList(9, 12).stream()
            .mapToDouble(m -> m.get("reward_mean"))
            .average()
            .orElseThrow();
    List<Double> rewards = steps.stream().map(m -> m.get("reward_mean")).toList();
    System.out.println("toy GRPO reward_mean by step: " + rewards);
    assertThat(late).as("reward_mean by step: %s", rewards).isGreaterThan(early + 0.15);
    assertThat(steps.get(11).get("loss")).isFinite();
    assertThat(steps.get(11).get("entropy")).isPositive();

    // Resume: a longer run of the same file continues from step 12 (checkpoint) to 14.
    RunFile longer = RunFiles.write(dir, 14, TOY_ALGORITHM, SMALL_MODEL);
    List<StepMetrics> more = new CopyOnWriteArrayList<>();
    try (Learner learner = Learner.create(longer, dir.resolve("work"), options)) {
      learner.addStepListener(more::add);
      int port = learner.start().grpc();
      assertThat(learner.status().getStep()).isEqualTo(12);
      assertThat(learner.status().getPolicyVersion()).isEqualTo(12);
      try (ScriptedWorker w = new ScriptedWorker("w", port, 4, RealEngineTest::lowercaseFraction)) {
        assertThat(learner.awaitCompletion(Duration.ofMinutes(2))).isTrue();
      }
      assertThat(learner.status().getStep()).isEqualTo(14);
    }
    assertThat(more).extracting(StepMetrics::step).containsExactly(13L, 14L);
    // The resumed policy keeps what it learned.
    assertThat(more.get(1).get("reward_mean")).isGreaterThan(early + 0.15);
  }
}

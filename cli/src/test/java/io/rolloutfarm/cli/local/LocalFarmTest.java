package io.rolloutfarm.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.learner.metrics.StepMetrics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short quickstart end to end: the seeded suite, demonstrations executed in real sandboxes, the
 * learner with its real PyTorch engine, a rollout worker and sandbox servers over gRPC on loopback;
 * then a second run of the same file that resumes from the first run's checkpoint.
 */
class LocalFarmTest {
  /**
   * A small model and short limits so that the whole thing takes about a minute on 2 cores. The one
   * family is "which shape is larger, A or B": after a short warm-up on mostly direct answers the
   * policy answers A or B, so groups of four rollouts have reward variance, OFR keeps some and the
   * policy is updated.
   */
  private static final String RUN =
      """
      apiVersion: rolloutfarm.io/v1alpha1
      kind: TrainingRun
      metadata:
        name: local-farm-test
      spec:
        totalSteps: %d
        seed: 3
        model:
          builtin: tiny
          engineOptions:
            max_context: "512"
        dataset:
          path: suite/train.jsonl
          evalPath: suite/heldout.jsonl
        warmup:
          steps: 60
          batchSize: 8
          learningRate: 0.002
          demonstrationsPath: suite/demonstrations.jsonl
        algorithm:
          groupSize: 4
          oversampleBatchSize: 3
          trainBatchSize: 1
          learningRate: 0.001
          maxTurns: 3
          maxTokensPerTurn: 200
          maxTotalTokens: 512
          prompts:
            imageTemplate: prompt.txt
        rolloutWorkers:
          replicas: 1
          concurrency: 12
        sandbox:
          template:
            minReplicas: 2
            sessionsPerPod: 8
        checkpoint:
          everySteps: 1
          keep: 2
      """;

  @Test
  void aShortQuickstartTrainsThroughRealSandboxesAndAResumedRunContinuesIt(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    Files.writeString(
        dir.resolve("prompt.txt"),
        "=== system ===\nCode or answer.\n=== user ===\n{{images}}{{question}}\n");
    RunFile first = write(dir, 2);
    Path work = dir.resolve("work");
    new DemoData(dir.resolve("suite"), 24, 6, 5, List.of("compare"), 0.25)
        .ensure(first, work, new PrintStream(new ByteArrayOutputStream()));
    List<String> demos = Files.readAllLines(dir.resolve("suite/demonstrations.jsonl"));
    long experts = demos.stream().filter(d -> d.contains("\"id\":\"expert/")).count();
    long guesses = demos.stream().filter(d -> d.contains("\"id\":\"guess/")).count();
    assertThat(experts + guesses).isEqualTo(24);
    assertThat(experts).isPositive();
    assertThat(guesses).isPositive();
    assertThat(demos.stream().filter(d -> d.contains("\"id\":\"expert-answer/")).count())
        .isEqualTo(experts);
    // Expert demonstrations carry the interpreter output of their code, run in a sandbox.
    assertThat(demos)
        .filteredOn(d -> d.contains("\"id\":\"expert/"))
        .allMatch(d -> d.contains("<interpreter>Text Result:"));

    List<StepMetrics> firstSteps = Collections.synchronizedList(new ArrayList<>());
    LocalFarm.Result r1 = run(first, work, firstSteps);
    assertThat(r1.outcome()).as(r1.message()).isEqualTo(LocalFarm.Outcome.COMPLETE);

    List<StepMetrics> train = phase(firstSteps, "train");
    assertThat(train).extracting(StepMetrics::step).containsExactly(1L, 2L);
    long warmupVersion =
        phase(firstSteps, "warmup").stream().mapToLong(StepMetrics::policyVersion).max().orElse(0);
    assertThat(phase(firstSteps, "warmup")).hasSize(60);
    for (StepMetrics m : train) {
      // Every trajectory opened a real sandbox session; none was lost to an infrastructure error.
      assertThat(m.get("trajectories")).isGreaterThan(0);
      assertThat(m.get("groups_filtered_infra_failure")).isZero();
      // OFR: every generated group is either filtered (with a reason) or kept, at most 1 kept.
      double filtered =
          m.values().entrySet().stream()
              .filter(e -> e.getKey().startsWith("groups_filtered_"))
              .mapToDouble(Map.Entry::getValue)
              .sum();
      assertThat(filtered + m.get("groups_kept") + m.get("groups_surplus_discarded"))
          .isEqualTo(m.get("groups_generated") + m.get("groups_carried_in"));
      assertThat(m.get("groups_kept")).isLessThanOrEqualTo(1);
    }

    // The report: held-out accuracy after the warm-up (step 0) and at the end, plots, summary.
    Path report = r1.reportDir();
    assertThat(report).isEqualTo(work.resolve("report"));
    Map<?, ?> summary =
        new ObjectMapper().readValue(report.resolve("summary.json").toFile(), Map.class);
    assertThat(summary.get("steps")).isEqualTo(2);
    assertThat(summary.get("warmup_accuracy")).isNotNull();
    assertThat(summary.get("final_accuracy")).isNotNull();
    for (String f : List.of("metrics.jsonl", "metrics.csv", "reward.png", "heldout_accuracy.png")) {
      assertThat(report.resolve(f)).isRegularFile();
    }
    // The final evaluation joined the last step's row instead of replacing its training figures.
    List<String> jsonl = Files.readAllLines(report.resolve("metrics.jsonl"));
    assertThat(jsonl.get(jsonl.size() - 1))
        .contains("\"step\":2", "\"heldout_accuracy\"", "\"reward_mean\"");
    List<String> checkpoints = list(work.resolve("checkpoints"));
    assertThat(checkpoints).isNotEmpty();

    // Same file, two more steps: the learner resumes from step 2 instead of starting over.
    RunFile second = write(dir, 4);
    List<StepMetrics> secondSteps = Collections.synchronizedList(new ArrayList<>());
    LocalFarm.Result r2 = run(second, work, secondSteps);
    assertThat(r2.outcome()).as(r2.message()).isEqualTo(LocalFarm.Outcome.COMPLETE);
    assertThat(phase(secondSteps, "warmup")).isEmpty();
    assertThat(phase(secondSteps, "train")).extracting(StepMetrics::step).containsExactly(3L, 4L);
    assertThat(phase(secondSteps, "train").get(0).policyVersion())
        .isGreaterThanOrEqualTo(train.get(1).policyVersion());
    assertThat(r2.summary().steps()).isEqualTo(4);
    // The policy version advanced by one for every RL step that trained on a kept group.
    List<StepMetrics> allTrain = new ArrayList<>(train);
    allTrain.addAll(phase(secondSteps, "train"));
    long updates = Math.round(allTrain.stream().mapToDouble(m -> m.get("updated")).sum());
    assertThat(updates).as("RL steps with a policy update; steps: %s", allTrain).isPositive();
    assertThat(allTrain.get(allTrain.size() - 1).policyVersion())
        .isEqualTo(warmupVersion + updates);
    // The report kept the first run's rows and the warm-up evaluation.
    assertThat(r2.summary().warmupAccuracy()).isEqualTo(r1.summary().warmupAccuracy());
  }

  private static LocalFarm.Result run(RunFile file, Path work, List<StepMetrics> steps)
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LocalFarm farm =
        new LocalFarm(file, new LocalFarm.Options(work, work.resolve("report"), "cpu", 2, 8, false))
            .onStep(steps::add);
    LocalFarm.Result result = farm.run(new PrintStream(out, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    // The kubectl-like table and the condition lines.
    assertThat(printed).contains("NAME", "READY", "STEP", "REWARD", "SANDBOXES", "AGE");
    assertThat(printed).contains("local-farm-test", "LearnerReady=True", "SandboxPoolReady=True");
    assertThat(printed).contains("Complete=True");
    return result;
  }

  private static RunFile write(Path dir, int steps) throws Exception {
    Path file = dir.resolve("run.yaml");
    Files.writeString(file, RUN.formatted(steps));
    return RunCommand.load(file);
  }

  private static List<StepMetrics> phase(List<StepMetrics> all, String phase) {
    synchronized (all) {
      return all.stream().filter(m -> m.phase().equals(phase)).toList();
    }
  }

  private static List<String> list(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }
}

package io.rolloutfarm.learner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.learner.engine.EngineSupervisor;
import io.rolloutfarm.learner.metrics.StepMetrics;
import io.rolloutfarm.learner.testing.InProcessEngineLauncher;
import io.rolloutfarm.learner.testing.RunFiles;
import io.rolloutfarm.learner.testing.ScriptedWorker;
import io.rolloutfarm.proto.v1.GenerateRequest;
import io.rolloutfarm.proto.v1.GetPolicyInfoRequest;
import io.rolloutfarm.proto.v1.GetRunStatusRequest;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import io.rolloutfarm.proto.v1.LeaseTasksRequest;
import io.rolloutfarm.proto.v1.PolicyInfo;
import io.rolloutfarm.proto.v1.PolicyServiceGrpc;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.TrainSequence;
import io.rolloutfarm.proto.v1.TrainStepRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class LearnerTest {
  @TempDir Path dir;

  /** Prompts p0, p3, ... are always right (zero spread); others alternate by group index. */
  static final ToDoubleFunction<Task> REWARD =
      task -> {
        int n = Integer.parseInt(task.getPromptId().substring(1));
        return n % 3 == 0 ? 1.0 : task.getGroupIndex() % 2;
      };

  static final String ALGORITHM =
      """
      groupSize: 4
      oversampleBatchSize: 3
      trainBatchSize: 2
      learningRate: 0.001
      """;

  private static LearnerOptions options(InProcessEngineLauncher launcher) {
    return LearnerOptions.local()
        .withEngineLauncher(launcher)
        .withSupervision(
            new EngineSupervisor.Options(
                Duration.ofSeconds(10),
                Duration.ofMillis(200),
                Duration.ofMillis(10),
                Duration.ofMillis(50),
                3,
                Duration.ofSeconds(10),
                Duration.ofSeconds(10),
                Duration.ofSeconds(10)));
  }

  private static List<ScriptedWorker> workers(int port, int n) {
    List<ScriptedWorker> ws = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ws.add(new ScriptedWorker("w" + i, port, REWARD));
    }
    return ws;
  }

  private static void closeAll(List<ScriptedWorker> ws) throws InterruptedException {
    for (ScriptedWorker w : ws) {
      w.close();
    }
  }

  @Test
  void warmsUpTrainsAndCompletesThroughTheGrpcServices() throws Exception {
    RunFiles.dataset(dir, 6);
    RunFile run =
        RunFiles.write(
            dir,
            3,
            ALGORITHM,
            """
            warmup:
              steps: 2
              batchSize: 1
              learningRate: 0.01
              demonstrationsPath: data/demos.jsonl
            """);
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    List<StepMetrics> steps = new CopyOnWriteArrayList<>();
    try (Learner learner = Learner.create(run, dir.resolve("work"), options(launcher))) {
      learner.addStepListener(steps::add);
      Learner.Ports ports = learner.start();
      List<ScriptedWorker> ws = workers(ports.grpc(), 2);
      try {
        assertThat(learner.awaitCompletion(Duration.ofSeconds(60))).isTrue();
        for (ScriptedWorker w : ws) {
          assertThat(w.join(10_000)).isTrue();
          assertThat(w.sawRunFinished).isTrue();
        }
      } finally {
        closeAll(ws);
      }

      RunStatus status = learner.status();
      assertThat(status.getPhase()).isEqualTo(RunPhase.RUN_PHASE_COMPLETE);
      assertThat(status.getStep()).isEqualTo(3);
      assertThat(status.getHealthy()).isTrue();
      // 2 warm-up updates, then one update per step (each round has learnable groups).
      assertThat(status.getPolicyVersion()).isEqualTo(5);
      assertThat(status.getTrajectoriesAccepted()).isEqualTo(3 * 3 * 4);
      assertThat(status.getMetricsMap())
          .containsKeys("reward_mean", "accuracy", "loss", "warmup_loss");

      var fake = launcher.current();
      assertThat(fake.supervisedRequests).hasSize(2);
      assertThat(fake.supervisedRequests.get(0).getSequences(0).getLossMaskList()).contains(1);
      assertThat(fake.trainRequests).hasSize(3);
      for (TrainStepRequest r : fake.trainRequests) {
        // Two kept groups of 4; advantages are group-centred, so each group's sum is 0.
        assertThat(r.getSequencesCount()).isEqualTo(8);
        double sum = r.getSequencesList().stream().mapToDouble(TrainSequence::getAdvantage).sum();
        assertThat(sum).isCloseTo(0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(r.getSequencesList())
            .extracting(TrainSequence::getAdvantage)
            .containsOnly(0.5f, -0.5f);
        assertThat(r.getLearningRate()).isEqualTo(0.001);
        assertThat(r.getClipLow()).isEqualTo(0.2);
        assertThat(r.getLossAggregation()).isEqualTo("token-mean");
      }

      List<StepMetrics> train = steps.stream().filter(m -> m.phase().equals("train")).toList();
      assertThat(train).extracting(StepMetrics::step).containsExactly(1L, 2L, 3L);
      StepMetrics first = train.get(0);
      assertThat(first.get("groups_generated")).isEqualTo(3);
      assertThat(
              first.get("groups_kept")
                  + first.get("groups_filtered_zero_reward_std")
                  + first.get("groups_surplus_discarded"))
          .isEqualTo(3);
      assertThat(first.get("trajectories")).isEqualTo(12);
      assertThat(first.get("tool_calls_per_trajectory")).isEqualTo(0.5);
      assertThat(first.get("oversampling_efficiency")).isEqualTo(first.get("groups_kept") / 3);
      assertThat(steps.stream().filter(m -> m.phase().equals("warmup"))).hasSize(2);

      assertThat(learner.checkpointDirectory().resolve("step-00000003/learner-state.json"))
          .exists();
      assertThat(learner.checkpointDirectory().resolve("step-00000002/engine/version.txt"))
          .exists();
      assertThat(learner.checkpointDirectory().resolve("step-00000000")).doesNotExist(); // keep 2
      assertThat(learner.prometheusMetrics())
          .contains("rolloutfarm_learner_step 3.0")
          .contains("rolloutfarm_learner_trajectories_accepted 36.0")
          .contains("rolloutfarm_learner_engine_healthy 1.0")
          .contains("name=\"reward_mean\"");

      // Status is what GetRunStatus serves.
      ManagedChannel ch =
          NettyChannelBuilder.forAddress("127.0.0.1", ports.grpc()).usePlaintext().build();
      try {
        RunStatus remote =
            LearnerServiceGrpc.newBlockingStub(ch)
                .getRunStatus(GetRunStatusRequest.getDefaultInstance());
        assertThat(remote.getStep()).isEqualTo(3);
        assertThat(remote.getPhase()).isEqualTo(RunPhase.RUN_PHASE_COMPLETE);
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void aResumedRunContinuesExactlyLikeAnUninterruptedOne() throws Exception {
    // Uninterrupted: 4 steps.
    Path a = dir.resolve("a");
    RunFiles.dataset(a, 5);
    InProcessEngineLauncher whole = new InProcessEngineLauncher();
    try (Learner learner =
        Learner.create(RunFiles.write(a, 4, ALGORITHM, ""), a.resolve("work"), options(whole))) {
      List<ScriptedWorker> ws = workers(learner.start().grpc(), 2);
      try {
        assertThat(learner.awaitCompletion(Duration.ofSeconds(60))).isTrue();
      } finally {
        closeAll(ws);
      }
    }
    List<TrainStepRequest> expected = whole.current().trainRequests;
    assertThat(expected).hasSize(4);

    // Interrupted after the step-2 checkpoint, with step 3 trained but not checkpointed and step
    // 4's rollouts under way.
    Path b = dir.resolve("b");
    RunFiles.dataset(b, 5);
    RunFile runB = RunFiles.write(b, 4, ALGORITHM, "");
    InProcessEngineLauncher first = new InProcessEngineLauncher();
    CountDownLatch stepThree = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (Learner learner = Learner.create(runB, b.resolve("work"), options(first))) {
      // Step 3 is held until the learner is closing, so the run cannot reach its step-4
      // checkpoint however fast this machine is; step-4 work accepted meanwhile is lost.
      learner.addStepListener(
          m -> {
            if (m.phase().equals("train") && m.step() == 3) {
              stepThree.countDown();
              try {
                release.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          });
      List<ScriptedWorker> ws = workers(learner.start().grpc(), 2);
      try {
        assertThat(stepThree.await(60, TimeUnit.SECONDS)).isTrue();
        Path state = learner.checkpointDirectory().resolve("step-00000002/learner-state.json");
        assertThat(state).exists();
        Thread.sleep(100); // let some step-4 work be accepted (and lost)
      } finally {
        Thread closer = Thread.ofPlatform().start(learner::close);
        // close() marks the learner closing, then waits for the run thread: release it then.
        for (int i = 0; i < 400 && closer.getState() != Thread.State.TIMED_WAITING; i++) {
          Thread.sleep(5);
        }
        release.countDown();
        closer.join(Duration.ofSeconds(60));
        closeAll(ws);
      }
    }
    InProcessEngineLauncher second = new InProcessEngineLauncher();
    try (Learner learner = Learner.create(runB, b.resolve("work"), options(second))) {
      List<ScriptedWorker> ws = workers(learner.start().grpc(), 2);
      assertThat(learner.status().getStep()).isEqualTo(2);
      try {
        assertThat(learner.awaitCompletion(Duration.ofSeconds(60))).isTrue();
      } finally {
        closeAll(ws);
      }
      assertThat(learner.status().getStep()).isEqualTo(4);
    }
    assertThat(second.current().loadedCheckpoints).hasSize(1);
    List<TrainStepRequest> resumed = new ArrayList<>(first.current().trainRequests.subList(0, 2));
    resumed.addAll(second.current().trainRequests);
    // Control-plane tolerance is zero: the same batches, advantages and learning rates, bit for
    // bit.
    assertThat(resumed).isEqualTo(expected);
  }

  @Test
  void aGracefulStopCheckpointsEverythingAcceptedAndTheRunContinuesUnchanged() throws Exception {
    Path a = dir.resolve("a");
    RunFiles.dataset(a, 5);
    InProcessEngineLauncher whole = new InProcessEngineLauncher();
    try (Learner learner =
        Learner.create(RunFiles.write(a, 4, ALGORITHM, ""), a.resolve("work"), options(whole))) {
      List<ScriptedWorker> ws = workers(learner.start().grpc(), 2);
      try {
        assertThat(learner.awaitCompletion(Duration.ofSeconds(60))).isTrue();
      } finally {
        closeAll(ws);
      }
    }
    List<TrainStepRequest> expected = whole.current().trainRequests;

    // Stopped (as on SIGTERM) once step 3 has accepted work that no checkpoint holds yet.
    Path b = dir.resolve("b");
    RunFiles.dataset(b, 5);
    RunFile runB = RunFiles.write(b, 4, ALGORITHM, "");
    InProcessEngineLauncher first = new InProcessEngineLauncher();
    long acceptedAtStop;
    long stepAtStop;
    Path written;
    try (Learner learner = Learner.create(runB, b.resolve("work"), options(first))) {
      ScriptedWorker w = new ScriptedWorker("w", learner.start().grpc(), REWARD);
      try {
        for (int i = 0; i < 30_000 && learner.status().getTrajectoriesAccepted() <= 2 * 12; i++) {
          Thread.sleep(2);
        }
      } finally {
        w.close();
      }
      written = learner.checkpointAndClose().orElseThrow();
      acceptedAtStop = learner.status().getTrajectoriesAccepted();
      stepAtStop = learner.status().getStep();
      assertThat(learner.checkpointAndClose()).isEmpty(); // already stopped
    }
    assertThat(acceptedAtStop).isGreaterThan(2 * 12);
    var state =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readValue(
                written.resolve("learner-state.json").toFile(),
                io.rolloutfarm.learner.checkpoint.LearnerState.class);
    assertThat(state.step()).isEqualTo(stepAtStop);
    assertThat(state.trajectoriesAccepted()).isEqualTo(acceptedAtStop);
    // Every accepted trajectory is either trained on (12 per step) or held in the checkpoint.
    long held =
        java.util.stream.Stream.concat(
                state.openGroups().stream(), state.completedGroups().stream())
            .flatMap(g -> g.trajectories().stream())
            .filter(java.util.Objects::nonNull)
            .count();
    assertThat(held).isEqualTo(acceptedAtStop - 12 * stepAtStop);
    assertThat(written.resolve("engine/version.txt")).exists();

    InProcessEngineLauncher second = new InProcessEngineLauncher();
    try (Learner learner = Learner.create(runB, b.resolve("work"), options(second))) {
      List<ScriptedWorker> ws = workers(learner.start().grpc(), 2);
      assertThat(learner.status().getTrajectoriesAccepted()).isEqualTo(acceptedAtStop);
      try {
        assertThat(learner.awaitCompletion(Duration.ofSeconds(60))).isTrue();
      } finally {
        closeAll(ws);
      }
      assertThat(learner.status().getStep()).isEqualTo(4);
      // Nothing was generated twice: 4 steps x 3 groups x 4 rollouts in all.
      assertThat(learner.status().getTrajectoriesAccepted()).isEqualTo(4 * 12);
    }
    List<TrainStepRequest> resumed =
        new ArrayList<>(first.current().trainRequests.subList(0, (int) stepAtStop));
    resumed.addAll(second.current().trainRequests);
    assertThat(resumed).isEqualTo(expected);
  }

  @Test
  void anEngineCrashIsRecoveredAndTheRunCompletes() throws Exception {
    RunFiles.dataset(dir, 6);
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    CountDownLatch stepTwo = new CountDownLatch(1);
    try (Learner learner =
        Learner.create(
            RunFiles.write(dir, 4, ALGORITHM, ""), dir.resolve("work"), options(launcher))) {
      learner.addStepListener(
          m -> {
            if (m.step() == 2) {
              stepTwo.countDown();
            }
          });
      List<ScriptedWorker> ws = workers(learner.start().grpc(), 2);
      try {
        assertThat(stepTwo.await(60, TimeUnit.SECONDS)).isTrue();
        Path state = learner.checkpointDirectory().resolve("step-00000002/learner-state.json");
        for (int i = 0; i < 400 && !Files.exists(state); i++) {
          Thread.sleep(25);
        }
        launcher.crash();
        assertThat(learner.awaitCompletion(Duration.ofSeconds(60))).isTrue();
      } finally {
        closeAll(ws);
      }
      assertThat(learner.status().getPhase()).isEqualTo(RunPhase.RUN_PHASE_COMPLETE);
      assertThat(learner.engineRestarts()).isEqualTo(1);
      assertThat(launcher.engines).hasSize(2);
      assertThat(launcher.current().loadedCheckpoints)
          .containsExactly(
              learner.checkpointDirectory().resolve("step-00000002/engine").toString());
      assertThat(learner.status().getStep()).isEqualTo(4);
    }
  }

  @Test
  void rpcBoundariesRejectBadRequestsWithActionableStatuses() throws Exception {
    RunFiles.dataset(dir, 3);
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    try (Learner learner =
        Learner.create(
            RunFiles.write(dir, 1, ALGORITHM, ""), dir.resolve("work"), options(launcher))) {
      int port = learner.start().grpc();
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      try {
        var policy = PolicyServiceGrpc.newBlockingStub(ch);
        PolicyInfo info = policy.getPolicyInfo(GetPolicyInfoRequest.getDefaultInstance());
        assertThat(info.getModelName()).isEqualTo("fake");
        assertThat(info.getTrainable()).isTrue();
        assertStatus(
            () -> policy.generate(GenerateRequest.getDefaultInstance()),
            Status.Code.INVALID_ARGUMENT,
            "prompt_token_ids is empty");
        assertStatus(
            () ->
                policy.generate(
                    GenerateRequest.newBuilder()
                        .addPromptTokenIds(1)
                        .addPromptTokenIds(info.getImageTokenId())
                        .build()),
            Status.Code.INVALID_ARGUMENT,
            "1 image placeholders");
        GenerateRequest.Builder huge = GenerateRequest.newBuilder();
        for (int i = 0; i < 130; i++) {
          huge.addPromptTokenIds(info.getImageTokenId()).addImages(Image.getDefaultInstance());
        }
        assertStatus(() -> policy.generate(huge.build()), Status.Code.OUT_OF_RANGE, "limit of 512");
        var learnerStub = LearnerServiceGrpc.newBlockingStub(ch);
        assertStatus(
            () -> learnerStub.leaseTasks(LeaseTasksRequest.newBuilder().setMaxTasks(1).build()),
            Status.Code.INVALID_ARGUMENT,
            "worker_id");
        assertStatus(
            () -> learnerStub.leaseTasks(LeaseTasksRequest.newBuilder().setWorkerId("w").build()),
            Status.Code.INVALID_ARGUMENT,
            "max_tasks");
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void evaluationPausesTrainingLeasesAndReportsIntoStatus() throws Exception {
    RunFiles.dataset(dir, 3);
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    List<StepMetrics> seen = Collections.synchronizedList(new ArrayList<>());
    try (Learner learner =
        Learner.create(
            RunFiles.write(dir, 1, ALGORITHM, ""), dir.resolve("work"), options(launcher))) {
      learner.addStepListener(seen::add);
      int port = learner.start().grpc();
      List<Task> eval = learner.evaluationTasks();
      assertThat(eval).extracting(Task::getTaskId).containsExactly("eval/e0");
      assertThat(eval.get(0).getAnswer()).isEqualTo("yes");
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      try {
        var stub = LearnerServiceGrpc.newBlockingStub(ch);
        LeaseTasksRequest ask =
            LeaseTasksRequest.newBuilder().setWorkerId("w").setMaxTasks(1).setWaitMs(0).build();
        try (Learner.Evaluation e = learner.beginEvaluation()) {
          assertThat(learner.status().getPhase()).isEqualTo(RunPhase.RUN_PHASE_EVALUATING);
          assertThat(stub.leaseTasks(ask).getLeasesCount()).isZero();
          learner.reportEvaluation(java.util.Map.of("accuracy", 0.75));
        }
        assertThat(learner.status().getPhase()).isEqualTo(RunPhase.RUN_PHASE_TRAINING);
        assertThat(learner.status().getMetricsMap()).containsEntry("eval_accuracy", 0.75);
        assertThat(seen).anyMatch(m -> m.phase().equals("eval") && m.get("accuracy") == 0.75);
        var leased = stub.leaseTasks(ask.toBuilder().setWaitMs(2000).build());
        assertThat(leased.getLeasesCount()).isEqualTo(1);
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void badRunSettingsFailBeforeAnythingStarts() throws Exception {
    RunFiles.dataset(dir, 3);
    assertThatThrownBy(
            () ->
                Learner.create(
                    RunFiles.write(dir, 1, ALGORITHM, "model:\n  builtin: huge\n"),
                    dir.resolve("work"),
                    LearnerOptions.local()))
        .hasMessageContaining("spec.model.builtin: unknown preset 'huge'");
    assertThat(
            Learner.engineModelArgument(
                RunFiles.write(
                    dir, 1, ALGORITHM, "model:\n  engineOptions:\n    n_layers: \"2\"\n"),
                RunFiles.write(dir, 1, ALGORITHM, "model:\n  engineOptions:\n    n_layers: \"2\"\n")
                    .run()
                    .getSpec()
                    .model))
        .isEqualTo("builtin:{\"n_layers\":2}");
    Files.delete(dir.resolve("data/train.jsonl"));
    assertThatThrownBy(
            () ->
                Learner.create(
                    RunFiles.write(dir, 1, ALGORITHM, ""),
                    dir.resolve("w"),
                    LearnerOptions.local()))
        .hasMessageContaining("no such dataset file");
  }

  private static void assertStatus(Runnable call, Status.Code code, String message) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription()).contains(message);
            });
  }
}

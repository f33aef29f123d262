package io.rolloutfarm.cli.learner;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.cli.FarmCommand;
import io.rolloutfarm.proto.v1.GetPolicyInfoRequest;
import io.rolloutfarm.proto.v1.GetRunStatusRequest;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import io.rolloutfarm.proto.v1.PolicyServiceGrpc;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code farm learner} against the real engine process, with a very small built-in model. */
@Timeout(300)
class LearnerCommandTest {
  @TempDir Path dir;

  private static final Pattern PORTS =
      Pattern.compile("PolicyService on 127\\.0\\.0\\.1:(\\d+); metrics on :(\\d+)/metrics");

  /** A started {@code farm learner}: its command object, stderr and exit code to come. */
  private record Started(
      LearnerCommand command,
      StringWriter err,
      CompletableFuture<Integer> exit,
      int grpc,
      int http) {}

  private Path runFile() throws Exception {
    Files.writeString(
        dir.resolve("train.jsonl"),
        """
        {"id": "a", "question": "what is 1?", "answer": "1"}
        {"id": "b", "question": "what is 2?", "answer": "2"}
        """);
    Files.writeString(
        dir.resolve("demos.jsonl"),
        """
        {"id": "d", "segments": [{"text": "what is 1?"}, {"text": "1", "train": true}]}
        """);
    Path run = dir.resolve("run.yaml");
    Files.writeString(
        run,
        """
        apiVersion: rolloutfarm.io/v1alpha1
        kind: TrainingRun
        metadata:
          name: cli-run
        spec:
          totalSteps: 3
          seed: 5
          dataset:
            path: train.jsonl
          algorithm:
            groupSize: 2
            oversampleBatchSize: 2
            trainBatchSize: 1
          warmup:
            steps: 2
            batchSize: 1
            demonstrationsPath: demos.jsonl
          model:
            builtin: tiny
            engineOptions:
              d_model: "32"
              n_layers: "1"
              n_heads: "2"
              d_ff: "64"
              max_context: "64"
              image_size: "16"
              patch_size: "8"
        """);
    return run;
  }

  private Started start(Path run) throws Exception {
    CommandLine cl = FarmCommand.commandLine();
    LearnerCommand command = cl.getSubcommands().get("learner").getCommand();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    String[] args = {
      "learner",
      "--run",
      run.toString(),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--metrics-port",
      "0",
      "--work-dir",
      dir.resolve("work").toString(),
      "--device",
      "cpu",
      "--threads",
      "1"
    };
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute(args));
    for (int i = 0; i < 1200; i++) {
      Matcher m = PORTS.matcher(err.toString());
      if (m.find()) {
        return new Started(
            command, err, exit, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
      }
      assertThat(exit).as("farm learner exited early: %s", err).isNotDone();
      Thread.sleep(100);
    }
    throw new AssertionError("farm learner did not report its ports: " + err);
  }

  private static RunStatus awaitTraining(ManagedChannel ch) throws InterruptedException {
    var stub = LearnerServiceGrpc.newBlockingStub(ch);
    RunStatus status = null;
    for (int i = 0; i < 600; i++) {
      status =
          stub.withDeadlineAfter(5, TimeUnit.SECONDS)
              .getRunStatus(GetRunStatusRequest.getDefaultInstance());
      if (status.getPhase() == RunPhase.RUN_PHASE_TRAINING) {
        return status;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("never reached TRAINING: " + status);
  }

  @Test
  void servesStatusPolicyAndMetricsAndStopsWithACheckpointItResumesFrom() throws Exception {
    Path run = runFile();
    Started s = start(run);
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", s.grpc()).usePlaintext().build();
    try {
      // No workers: the warm-up runs by itself, then the learner waits for rollouts.
      RunStatus status = awaitTraining(ch);
      assertThat(status.getPolicyVersion()).isEqualTo(2);
      assertThat(status.getStep()).isZero();
      assertThat(status.getTotalSteps()).isEqualTo(3);
      assertThat(status.getHealthy()).isTrue();
      assertThat(status.getMetricsMap()).containsKey("warmup_loss");
      assertThat(
              PolicyServiceGrpc.newBlockingStub(ch)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .getPolicyInfo(GetPolicyInfoRequest.getDefaultInstance())
                  .getPolicyVersion())
          .isEqualTo(2);
      String metrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.http() + "/metrics"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics)
          .contains("rolloutfarm_learner_policy_version 2.0")
          .contains("rolloutfarm_learner_engine_healthy 1.0")
          .contains("jvm_memory_used_bytes")
          .contains("name=\"loss\",phase=\"warmup\"");
      // farm status reads the same RunStatus.
      CommandLine farm = FarmCommand.commandLine();
      StringWriter out = new StringWriter();
      farm.setOut(new PrintWriter(out, true));
      assertThat(farm.execute("status", "--learner", "127.0.0.1:" + s.grpc())).isZero();
      assertThat(out.toString())
          .contains("phase TRAINING  step 0/3  policy version 2  healthy")
          .containsPattern("warmup_loss +[0-9.]+");
      out.getBuffer().setLength(0);
      assertThat(farm.execute("status", "--learner", "127.0.0.1:" + s.grpc(), "--json")).isZero();
      assertThat(out.toString()).contains("\"phase\": \"RUN_PHASE_TRAINING\"");
    } finally {
      ch.shutdownNow();
    }

    // What SIGTERM runs: a checkpoint of the warmed-up policy, then a clean exit.
    s.command().stopGracefully();
    assertThat(s.exit().get(60, TimeUnit.SECONDS)).isZero();
    assertThat(s.err().toString()).contains("farm: learner stopped; checkpoint ");
    Path checkpoint = dir.resolve("work/checkpoints/step-00000000");
    var state =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(checkpoint.resolve("learner-state.json").toFile());
    assertThat(state.get("warmupStepsDone").asInt()).isEqualTo(2);
    assertThat(state.get("policyVersion").asInt()).isEqualTo(2);
    assertThat(checkpoint.resolve("engine/engine.json")).exists();

    // Started again: it resumes the warmed-up policy and does not warm up again.
    Started again = start(run);
    ManagedChannel ch2 =
        NettyChannelBuilder.forAddress("127.0.0.1", again.grpc()).usePlaintext().build();
    try {
      RunStatus status =
          LearnerServiceGrpc.newBlockingStub(ch2)
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .getRunStatus(GetRunStatusRequest.getDefaultInstance());
      assertThat(status.getPolicyVersion()).isEqualTo(2);
      assertThat(awaitTraining(ch2).getPolicyVersion()).isEqualTo(2);
    } finally {
      ch2.shutdownNow();
    }
    again.command().stopGracefully();
    assertThat(again.exit().get(60, TimeUnit.SECONDS)).isZero();
    assertThat(Files.readString(dir.resolve("work/engine.log")))
        .contains("engine incarnation 0 ")
        .doesNotContain("engine incarnation 1 ")
        .doesNotContain("Traceback");
  }

  @Test
  void sigtermStopsTheProcessAfterACheckpointAndTakesTheEngineWithIt() throws Exception {
    Path run = runFile();
    Path work = dir.resolve("proc-work");
    Path log = dir.resolve("learner.log");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                FarmCommand.class.getName(),
                "learner",
                "--run",
                run.toString(),
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--metrics-port",
                "-1",
                "--work-dir",
                work.toString(),
                "--device",
                "cpu",
                "--threads",
                "1")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      // The warm-up's checkpoint means the engine is up and the run is under way.
      Path warm = work.resolve("checkpoints/step-00000000/learner-state.json");
      for (int i = 0; i < 1200 && !Files.exists(warm) && p.isAlive(); i++) {
        Thread.sleep(100);
      }
      assertThat(warm).as("log: %s", Files.readString(log)).exists();
      Matcher pid =
          Pattern.compile("engine incarnation 0 pid (\\d+)")
              .matcher(Files.readString(work.resolve("engine.log")));
      assertThat(pid.find()).isTrue();
      ProcessHandle engine = ProcessHandle.of(Long.parseLong(pid.group(1))).orElseThrow();

      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isEqualTo(143); // 128 + SIGTERM, after the shutdown hook ran
      assertThat(Files.readString(log))
          .contains("farm: learner stopped; checkpoint " + work.resolve("checkpoints"));
      engine.onExit().get(30, TimeUnit.SECONDS);
      assertThat(engine.isAlive()).isFalse();
    } finally {
      p.destroyForcibly();
    }
  }

  private record Result(int exit, String err) {}

  private static Result run(String... args) {
    CommandLine cl = FarmCommand.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    return new Result(cl.execute(args), err.toString());
  }

  @Test
  void badFilesAndFlagsGetOneLineNamingTheProblem() throws Exception {
    Path missing = dir.resolve("nope.yaml");
    Result r = run("learner", "--run", missing.toString(), "--port", "0");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("farm: ").contains(missing.toString());

    Path run = runFile();
    Files.delete(dir.resolve("train.jsonl"));
    r = run("learner", "--run", run.toString(), "--port", "0", "--metrics-port", "-1");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("train.jsonl").doesNotContain("Exception");

    Files.writeString(dir.resolve("train.jsonl"), "{\"id\": \"a\", \"question\": \"q\"}\n");
    r = run("learner", "--run", run.toString(), "--port", "0", "--metrics-port", "-1");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("train.jsonl:1: answer: required");

    r = run("learner", "--run", run.toString(), "--port", "70000");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("--port: must be 0..65535, got 70000");
    r = run("status", "--learner", "127.0.0.1:1", "--timeout-seconds", "2");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("cannot read the run status from 127.0.0.1:1: UNAVAILABLE");
    r = run("learner", "--run", run.toString(), "--device", "tpu");
    assertThat(r.err()).contains("--device: expected auto, cpu or cuda, got 'tpu'");
  }
}

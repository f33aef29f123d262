package io.rolloutfarm.cli.learner;

import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.learner.Learner;
import io.rolloutfarm.learner.LearnerOptions;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code farm learner}: the learner of one TrainingRun (what runs in the learner pod). */
@Command(
    name = "learner",
    mixinStandardHelpOptions = true,
    description = {
      "Run the learner of a TrainingRun (what the learner pod runs).",
      "It serves LearnerService (task leases, trajectory intake, run status) and",
      "PolicyService (batched generation) on one port, supervises the PyTorch",
      "engine, runs the behaviour-cloning warm-up and the RL steps, and writes",
      "checkpoints. It resumes from the newest checkpoint in the work directory",
      "(or spec.checkpoint.path). SIGTERM stops it gracefully: the step in",
      "progress finishes, a checkpoint with everything accepted so far is",
      "written, then it exits."
    })
public final class LearnerCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--run", required = true, paramLabel = "FILE", description = "TrainingRun YAML.")
  Path run;

  @Option(
      names = "--port",
      defaultValue = "50051",
      description = "gRPC port of LearnerService and PolicyService; 0 picks one (default: 50051).")
  int port;

  @Option(
      names = "--metrics-port",
      defaultValue = "9090",
      description = "Prometheus /metrics port; 0 picks one, -1 serves none (default: 9090).")
  int metricsPort;

  @Option(
      names = "--work-dir",
      defaultValue = "learner-work",
      paramLabel = "DIR",
      description =
          "Engine log and, unless spec.checkpoint.path says otherwise, checkpoints/"
              + " (default: ${DEFAULT-VALUE}).")
  Path workDir;

  @Option(
      names = "--host",
      defaultValue = "0.0.0.0",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--device",
      defaultValue = "auto",
      description = "Engine device: auto (CUDA when present), cpu or cuda (default: auto).")
  String device;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "Engine CPU threads; 0 lets the engine use every core (default: 0).")
  int threads;

  @Option(
      names = "--lease-seconds",
      defaultValue = "300",
      description =
          "Lease deadline of a rollout task; a dead worker's tasks return to the queue after it"
              + " (default: ${DEFAULT-VALUE}).")
  int leaseSeconds;

  private final CompletableFuture<Learner> running = new CompletableFuture<>();
  private final CompletableFuture<Optional<Path>> stopped = new CompletableFuture<>();
  private volatile boolean stopRequested;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    checkArguments();
    RunFile runFile;
    try {
      runFile = RunFile.load(run);
    } catch (RunFile.InvalidRunFileException e) {
      throw new UserError(e.getMessage());
    }
    LearnerOptions options =
        LearnerOptions.defaults()
            .withHost(host)
            .withPorts(port, metricsPort)
            .withEngine(device, threads)
            .withLeaseDuration(Duration.ofSeconds(leaseSeconds));
    Learner learner;
    try {
      learner = Learner.create(runFile, workDir, options);
    } catch (IOException e) {
      throw new UserError(e.getMessage());
    }
    Learner.Ports ports;
    try {
      ports = learner.start();
    } catch (IOException | RuntimeException e) {
      learner.close();
      throw new UserError(
          "the learner could not start: "
              + e.getMessage()
              + " (engine log: "
              + workDir.toAbsolutePath().resolve("engine.log")
              + ")");
    }
    running.complete(learner);
    Thread hook = new Thread(this::stopGracefully, "learner-sigterm");
    Runtime.getRuntime().addShutdownHook(hook);
    err.printf(
        "farm: learner of run %s: LearnerService and PolicyService on %s:%d%s; checkpoints in %s%n",
        runFile.name(),
        host,
        ports.grpc(),
        ports.metrics() >= 0 ? "; metrics on :" + ports.metrics() + "/metrics" : "",
        learner.checkpointDirectory());
    err.flush();
    while (!learner.awaitCompletion(Duration.ofMinutes(1))) {
      // train until the run completes or fails, or a SIGTERM stops it
    }
    if (stopRequested) {
      awaitStop();
      return 0;
    }
    RunStatus status = learner.status();
    learner.close();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the JVM is already exiting; the hook finds the learner closed
    }
    if (status.getPhase() != RunPhase.RUN_PHASE_COMPLETE) {
      throw new UserError(
          "the run failed at step " + status.getStep() + ": " + status.getMessage(), 1);
    }
    err.printf(
        "farm: learner: run %s complete: %d steps, policy version %d%n",
        runFile.name(), status.getStep(), status.getPolicyVersion());
    return 0;
  }

  /**
   * What SIGTERM does: finish the step in progress, checkpoint everything accepted, stop. Safe to
   * call before the learner started (then nothing is written) and more than once.
   */
  void stopGracefully() {
    Learner learner = running.getNow(null);
    if (learner == null || stopRequested) {
      return;
    }
    stopRequested = true;
    PrintWriter err = spec.commandLine().getErr();
    try {
      Optional<Path> checkpoint = learner.checkpointAndClose();
      // Printed here: on SIGTERM the JVM halts when this hook returns, main thread or not.
      err.println(
          "farm: learner stopped"
              + checkpoint.map(p -> "; checkpoint " + p + " (resumes from there)").orElse(""));
      stopped.complete(checkpoint);
    } catch (IOException | RuntimeException e) {
      err.println("farm: learner stopped without its final checkpoint: " + e.getMessage());
      stopped.completeExceptionally(e);
    } finally {
      err.flush();
    }
  }

  /** The learner once it has started (tests and embedding code); waits at most {@code timeout}. */
  Learner awaitStarted(Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    return running.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void awaitStop() throws InterruptedException {
    try {
      stopped.get();
    } catch (ExecutionException e) {
      throw new UserError("the final checkpoint failed: " + e.getCause().getMessage(), 1);
    }
  }

  private void checkArguments() {
    if (port < 0 || port > 65535) {
      throw new UserError("--port: must be 0..65535, got " + port);
    }
    if (metricsPort < -1 || metricsPort > 65535) {
      throw new UserError("--metrics-port: must be -1 (none) or 0..65535, got " + metricsPort);
    }
    if (!device.equals("auto") && !device.equals("cpu") && !device.startsWith("cuda")) {
      throw new UserError("--device: expected auto, cpu or cuda, got '" + device + "'");
    }
    if (threads < 0) {
      throw new UserError("--threads: must be 0 or more, got " + threads);
    }
    if (leaseSeconds < 1) {
      throw new UserError("--lease-seconds: must be at least 1, got " + leaseSeconds);
    }
  }
}

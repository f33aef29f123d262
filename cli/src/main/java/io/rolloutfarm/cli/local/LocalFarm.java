package io.rolloutfarm.cli.local;

import io.grpc.ManagedChannel;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.SandboxPoolSpec;
import io.rolloutfarm.api.v1alpha1.TrainingRunSpec;
import io.rolloutfarm.learner.Learner;
import io.rolloutfarm.learner.LearnerOptions;
import io.rolloutfarm.learner.metrics.StepMetrics;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import io.rolloutfarm.worker.RolloutWorker;
import io.rolloutfarm.worker.WorkerConfig;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.policy.PolicyBackends;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One TrainingRun on this machine, built from the same components as on a cluster and wired over
 * gRPC on 127.0.0.1: sandbox servers (what the sandbox pods run), the learner with its PyTorch
 * engine process, and rollout workers, each configured from the same run file the operator hands to
 * the pods. It evaluates on the held-out split after the warm-up and at the end, and writes the
 * {@link RunReport}.
 *
 * <p>{@link #requestStop} (Ctrl-C) stops it cleanly: the learner finishes its step and writes a
 * checkpoint, workers release their leases, the engine and sandboxes shut down. Running the same
 * file with the same work folder again resumes from the newest checkpoint.
 */
public final class LocalFarm {
  private static final Logger LOG = Logger.getLogger(LocalFarm.class.getName());

  /** How a run ended. */
  public enum Outcome {
    COMPLETE,
    STOPPED,
    FAILED
  }

  /** What {@link #run} returns. */
  public record Result(Outcome outcome, Summary summary, Path reportDir, String message) {}

  /**
   * Local settings beyond the run file.
   *
   * @param workDir learner state, engine log, sandbox session folders and (unless the run says
   *     otherwise) checkpoints
   * @param reportDir where the report goes
   * @param engineDevice {@code auto}, {@code cpu} or {@code cuda}
   * @param engineThreads torch CPU threads; 0 lets the engine choose
   * @param evalConcurrency held-out trajectories run at once
   * @param interactive draw the live progress bar (a terminal is attached)
   */
  public record Options(
      Path workDir,
      Path reportDir,
      String engineDevice,
      int engineThreads,
      int evalConcurrency,
      boolean interactive) {}

  private final RunFile runFile;
  private final TrainingRunSpec spec;
  private final Options options;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private final List<Consumer<StepMetrics>> stepObservers = new ArrayList<>();

  public LocalFarm(RunFile runFile, Options options) {
    this.runFile = runFile;
    this.spec = runFile.run().getSpec();
    this.options = options;
  }

  /** Also calls {@code observer} after every warm-up step, RL step and evaluation. */
  public LocalFarm onStep(Consumer<StepMetrics> observer) {
    stepObservers.add(observer);
    return this;
  }

  /** Asks a running farm to stop cleanly; {@link #run} then returns {@link Outcome#STOPPED}. */
  public void requestStop() {
    stop.countDown();
  }

  /** Waits for {@link #run} to have shut everything down (for a shutdown hook). */
  public boolean awaitShutdown(Duration timeout) throws InterruptedException {
    return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Runs the farm until the run completes, fails or is stopped; prints to {@code out}. */
  public Result run(java.io.PrintStream out) throws IOException, InterruptedException {
    long started = System.nanoTime();
    try (RunReport report = new RunReport(options.reportDir())) {
      Outcome outcome;
      String message;
      SandboxFleet fleet = null;
      Learner learner = null;
      List<RolloutWorker> workers = new ArrayList<>();
      RunConsole console = null;
      Policy evalPolicy = null;
      GrpcSandboxes evalSandboxes = null;
      try {
        fleet = SandboxFleet.start(sandboxPool(spec), options.workDir().resolve("sandboxes"));
        learner = Learner.create(runFile, options.workDir(), learnerOptions());
        console =
            new RunConsole(
                out,
                runFile.name(),
                spec.totalSteps,
                lastRecordedStep(report),
                options.interactive());
        RunConsole shown = console;
        learner.addStepListener(m -> onStep(m, report, shown));
        String learnerAddress = "127.0.0.1:" + learner.start().grpc();
        AgentSettings agent = AgentSettings.from(runFile);
        evalPolicy = PolicyBackends.open(learnerAddress, null);
        evalSandboxes = fleet.connect(agent.execTimeoutMs());
        HeldOutEvaluation evaluation =
            new HeldOutEvaluation(evalPolicy, evalSandboxes, agent, options.evalConcurrency());
        LocalConditions conditions = new LocalConditions(Duration.ofSeconds(30));

        // The warm-up runs inside the learner; wait for it, then evaluate before any RL step.
        RunStatus status = awaitWarmup(learner, fleet, conditions, console);
        if (status != null
            && !hasWarmupEvaluation(report)
            && status.getStep() == 0
            && !isOver(status)) {
          evaluate(learner, evaluation, console);
        }
        if (status != null && !stopRequested()) {
          for (int i = 0; i < Math.max(1, spec.rolloutWorkers.replicas); i++) {
            workers.add(startWorker(i, learnerAddress, fleet, agent));
          }
          status = awaitEnd(learner, fleet, conditions, console);
        } else {
          status = null;
        }
        if (status == null) {
          console.note("stopping: finishing the current step and writing a checkpoint...");
          boolean checkpointed = learner.stopAndCheckpoint(Duration.ofMinutes(2));
          closeWorkers(workers);
          outcome = Outcome.STOPPED;
          message =
              checkpointed
                  ? "stopped at step "
                      + learner.status().getStep()
                      + "; run the same command again to resume from the checkpoint in "
                      + learner.checkpointDirectory()
                  : "stopped before the learner finished its step; the next run resumes from the"
                      + " previous checkpoint";
        } else if (status.getPhase() == RunPhase.RUN_PHASE_COMPLETE) {
          closeWorkers(workers);
          evaluate(learner, evaluation, console);
          outcome = Outcome.COMPLETE;
          message = "completed " + status.getStep() + " steps";
        } else {
          outcome = Outcome.FAILED;
          message = "the learner failed: " + status.getMessage();
        }
        show(learner, fleet, conditions, console, false);
      } catch (PolicyFailure e) {
        outcome = Outcome.FAILED;
        message = "cannot reach the learner's policy service: " + e.getMessage();
      } finally {
        closeWorkers(workers);
        if (evalPolicy != null) {
          closeQuietly(evalPolicy);
        }
        if (evalSandboxes != null) {
          evalSandboxes.close();
        }
        if (learner != null) {
          learner.close();
        }
        if (fleet != null) {
          fleet.close();
        }
        if (console != null) {
          console.close();
        }
      }
      Summary summary = report.finish(seconds(started));
      return new Result(outcome, summary, report.dir(), message);
    } finally {
      finished.countDown();
    }
  }

  private boolean stopRequested() {
    return stop.getCount() == 0;
  }

  private LearnerOptions learnerOptions() {
    return LearnerOptions.local().withEngine(options.engineDevice(), options.engineThreads());
  }

  private RolloutWorker startWorker(
      int index, String learnerAddress, SandboxFleet fleet, AgentSettings agent)
      throws PolicyFailure {
    Policy policy = PolicyBackends.open(learnerAddress, null);
    GrpcSandboxes sandboxes = fleet.connect(agent.execTimeoutMs());
    ManagedChannel channel = RolloutWorker.channel(learnerAddress);
    WorkerConfig config =
        WorkerConfig.of("local-worker-" + index, spec.rolloutWorkers.concurrency, agent);
    RolloutWorker worker =
        new RolloutWorker(config, channel, policy, sandboxes, WorkerMetrics.inMemory())
            .owning(policy, sandboxes, channel::shutdownNow);
    return worker.start();
  }

  private void onStep(StepMetrics m, RunReport report, RunConsole console) {
    switch (m.phase()) {
      case "train" -> report.record(m.step(), LocalMetrics.forReport(m.values()));
      case "eval" -> {
        // An evaluation after an RL step joins that step's row rather than replacing it.
        Map<String, Double> row = new java.util.LinkedHashMap<>();
        report.rows().stream()
            .filter(r -> r.step() == m.step() && m.step() > 0)
            .reduce((a, b) -> b)
            .ifPresent(r -> row.putAll(r.metrics()));
        row.putAll(m.values());
        report.record(m.step(), row);
      }
      default -> {}
    }
    console.step(m);
    for (Consumer<StepMetrics> o : stepObservers) {
      o.accept(m);
    }
  }

  private void evaluate(Learner learner, HeldOutEvaluation evaluation, RunConsole console)
      throws InterruptedException {
    var tasks = learner.evaluationTasks();
    if (tasks.isEmpty()) {
      return;
    }
    console.note("evaluating on " + tasks.size() + " held-out tasks...");
    Map<String, Double> results;
    try (Learner.Evaluation ignored = learner.beginEvaluation()) {
      results = evaluation.run(tasks);
    }
    learner.reportEvaluation(results);
  }

  /** Waits until the warm-up is over; null when a stop was requested first. */
  private RunStatus awaitWarmup(
      Learner learner, SandboxFleet fleet, LocalConditions conditions, RunConsole console)
      throws InterruptedException {
    while (true) {
      RunStatus s = show(learner, fleet, conditions, console, false);
      RunPhase p = s.getPhase();
      if (p != RunPhase.RUN_PHASE_STARTING && p != RunPhase.RUN_PHASE_WARMUP) {
        return s;
      }
      if (stop.await(500, TimeUnit.MILLISECONDS)) {
        return null;
      }
    }
  }

  /** Waits until the run completes or fails; null when a stop was requested first. */
  private RunStatus awaitEnd(
      Learner learner, SandboxFleet fleet, LocalConditions conditions, RunConsole console)
      throws InterruptedException {
    while (true) {
      RunStatus s = show(learner, fleet, conditions, console, true);
      if (isOver(s)) {
        return s;
      }
      if (stop.await(1000, TimeUnit.MILLISECONDS)) {
        return null;
      }
    }
  }

  private static RunStatus show(
      Learner learner,
      SandboxFleet fleet,
      LocalConditions conditions,
      RunConsole console,
      boolean workersUp) {
    RunStatus s = learner.status();
    console.status(
        conditions.observe(s, fleet.ready(), fleet.size(), workersUp, System.nanoTime()));
    return s;
  }

  private static boolean isOver(RunStatus s) {
    return s.getPhase() == RunPhase.RUN_PHASE_COMPLETE || s.getPhase() == RunPhase.RUN_PHASE_FAILED;
  }

  private static boolean hasWarmupEvaluation(RunReport report) {
    return report.rows().stream()
        .anyMatch(r -> r.step() == 0 && r.metrics().containsKey(RunReport.HELDOUT_ACCURACY));
  }

  private static long lastRecordedStep(RunReport report) {
    return report.rows().stream().mapToLong(RunReport.StepRow::step).max().orElse(0);
  }

  /** The run's sandbox pool: its inline template (a local run has no other pools to refer to). */
  static SandboxPoolSpec sandboxPool(TrainingRunSpec spec) {
    return spec.sandbox == null || spec.sandbox.template == null
        ? new SandboxPoolSpec()
        : spec.sandbox.template;
  }

  private static void closeWorkers(List<RolloutWorker> workers) {
    for (RolloutWorker w : workers) {
      try {
        w.close();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "closing a worker failed", e);
      }
    }
    workers.clear();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.log(Level.FINE, "close failed", e);
    }
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}

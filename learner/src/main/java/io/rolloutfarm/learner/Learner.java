package io.rolloutfarm.learner;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import io.rolloutfarm.api.v1alpha1.CheckpointSpec;
import io.rolloutfarm.api.v1alpha1.ModelSpec;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.TrainingRunSpec;
import io.rolloutfarm.api.v1alpha1.WarmupSpec;
import io.rolloutfarm.learner.checkpoint.CheckpointStore;
import io.rolloutfarm.learner.checkpoint.LearnerState;
import io.rolloutfarm.learner.checkpoint.StateCodec;
import io.rolloutfarm.learner.data.MediaLoader;
import io.rolloutfarm.learner.data.Prompt;
import io.rolloutfarm.learner.data.PromptDataset;
import io.rolloutfarm.learner.data.PromptSampler;
import io.rolloutfarm.learner.dispatch.Dispatcher;
import io.rolloutfarm.learner.dispatch.DispatcherConfig;
import io.rolloutfarm.learner.dispatch.DispatcherState;
import io.rolloutfarm.learner.engine.EngineLauncher;
import io.rolloutfarm.learner.engine.EngineSupervisor;
import io.rolloutfarm.learner.engine.EngineUnavailableException;
import io.rolloutfarm.learner.engine.PythonEngineLauncher;
import io.rolloutfarm.learner.metrics.LearnerMetrics;
import io.rolloutfarm.learner.metrics.StepListener;
import io.rolloutfarm.learner.metrics.StepMetrics;
import io.rolloutfarm.learner.ofr.Group;
import io.rolloutfarm.learner.ofr.OfrConfig;
import io.rolloutfarm.learner.ofr.OfrSelector;
import io.rolloutfarm.learner.serve.GenerateBatcher;
import io.rolloutfarm.learner.serve.LearnerGrpcService;
import io.rolloutfarm.learner.serve.PolicyGrpcService;
import io.rolloutfarm.learner.train.Demonstration;
import io.rolloutfarm.learner.train.DemonstrationReader;
import io.rolloutfarm.learner.train.LearningRateSchedule;
import io.rolloutfarm.learner.train.RlTrainer;
import io.rolloutfarm.learner.train.TrainerConfig;
import io.rolloutfarm.learner.train.WarmupDriver;
import io.rolloutfarm.proto.v1.EngineInfo;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import io.rolloutfarm.proto.v1.Task;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The learner of one TrainingRun, runnable in-process (the local farm embeds it) or as {@code farm
 * learner}. It serves LearnerService and PolicyService on one port, supervises the PyTorch engine,
 * runs the behaviour-cloning warm-up and then the RL steps, writes checkpoints and resumes from the
 * newest one.
 *
 * <pre>
 * try (Learner learner = Learner.create(RunFile.load(path), workDir, LearnerOptions.local())) {
 *   learner.addStepListener(m -> System.out.println(m.step() + " " + m.values()));
 *   Learner.Ports ports = learner.start();
 *   // rollout workers connect to 127.0.0.1:ports.grpc()
 *   learner.awaitCompletion(Duration.ofHours(1));
 * }
 * </pre>
 */
public final class Learner implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Learner.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The ports the learner listens on; metrics is -1 when no metrics server runs. */
  public record Ports(int grpc, int metrics) {}

  private final RunFile runFile;
  private final TrainingRunSpec spec;
  private final Path workDir;
  private final LearnerOptions options;
  private final PromptDataset dataset;
  private final PromptDataset evalDataset;
  private final MediaLoader media = new MediaLoader(512);
  private final CheckpointStore checkpoints;
  private final LearnerMetrics metrics = new LearnerMetrics();
  private final List<StepListener> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Double> latestMetrics = new ConcurrentHashMap<>();
  private final CountDownLatch done = new CountDownLatch(1);
  private final String engineModel;

  private EngineSupervisor engine;
  private Dispatcher dispatcher;
  private RlTrainer trainer;
  private GenerateBatcher batcher;
  private Server server;
  private ScheduledExecutorService sweeper;
  private Thread runThread;
  private Ports ports;
  private volatile RunPhase phase = RunPhase.RUN_PHASE_STARTING;
  private volatile String message = "starting";
  private volatile int warmupStepsDone;
  private volatile long lastCheckpointStep = -1;
  private volatile boolean closing;
  private boolean closed;
  private volatile boolean stopRequested;
  private long restoredTrajectoriesAccepted;

  private Learner(RunFile runFile, Path workDir, LearnerOptions options) throws IOException {
    this.runFile = runFile;
    this.spec = runFile.run().getSpec();
    this.workDir = workDir.toAbsolutePath();
    this.options = options;
    if (spec.dataset == null || spec.dataset.path == null || spec.dataset.path.isBlank()) {
      throw new IOException(runFile.file() + ": spec.dataset.path: required");
    }
    if (spec.totalSteps == null || spec.totalSteps < 1) {
      throw new IOException(runFile.file() + ": spec.totalSteps: required, at least 1");
    }
    this.dataset = PromptDataset.load(runFile.resolve(spec.dataset.path));
    this.evalDataset =
        spec.dataset.evalPath == null || spec.dataset.evalPath.isBlank()
            ? null
            : PromptDataset.load(runFile.resolve(spec.dataset.evalPath));
    CheckpointSpec ck = spec.checkpoint == null ? new CheckpointSpec() : spec.checkpoint;
    Path ckRoot =
        ck.path == null || ck.path.isBlank()
            ? this.workDir.resolve("checkpoints")
            : runFile.resolve(ck.path);
    this.checkpoints = new CheckpointStore(ckRoot, ck.keep);
    this.engineModel = engineModelArgument(runFile, spec.model);
    Files.createDirectories(this.workDir);
  }

  /** Reads the run's datasets (failing fast on bad data); nothing starts yet. */
  public static Learner create(RunFile runFile, Path workDir, LearnerOptions options)
      throws IOException {
    return new Learner(runFile, workDir, options);
  }

  /**
   * Starts the engine, resumes from the newest checkpoint, starts serving and starts training on a
   * background thread. Returns the bound ports.
   */
  public synchronized Ports start() throws IOException {
    if (ports != null) {
      return ports;
    }
    listeners.add(0, metrics);
    int metricsPort = -1;
    if (options.metricsPort() >= 0) {
      metricsPort = metrics.serve(options.host(), options.metricsPort());
    }
    engine = new EngineSupervisor(launcher(), options.supervision());
    EngineInfo info = engine.start();
    LOG.info(
        "engine up: "
            + info.getModelName()
            + " on "
            + info.getDevice()
            + " ("
            + info.getDtype()
            + ", "
            + info.getParameterCount()
            + " parameters, torch "
            + info.getTorchVersion()
            + ")");

    Optional<CheckpointStore.Checkpoint> resume = checkpoints.latest();
    long policyVersion = info.getPolicyVersion();
    LearnerState state = null;
    if (resume.isPresent()) {
      CheckpointStore.Checkpoint ck = resume.get();
      state = ck.state();
      policyVersion = engine.loadCheckpoint(ck.engineDirectory()).getPolicyVersion();
      engine.setLastCheckpoint(ck.engineDirectory());
      lastCheckpointStep = ck.step();
      LOG.info(
          "resumed from "
              + ck.directory()
              + " (step "
              + ck.step()
              + ", policy version "
              + policyVersion
              + ")");
    }

    AlgorithmSpec algorithm = spec.algorithm == null ? new AlgorithmSpec() : spec.algorithm;
    PromptSampler sampler =
        state == null
            ? new PromptSampler(dataset, spec.seed)
            : new PromptSampler(
                dataset,
                spec.seed,
                new PromptSampler.Cursor(state.dataEpoch(), state.dataPosition()));
    RlTrainer[] trainerRef = new RlTrainer[1];
    dispatcher =
        new Dispatcher(
            DispatcherConfig.of(algorithm, options.maxAttempts(), options.leaseDuration()),
            dataset,
            sampler,
            media,
            options.clock(),
            () -> trainerRef[0].policyVersion());
    trainer =
        new RlTrainer(
            TrainerConfig.of(algorithm),
            new OfrSelector(OfrConfig.of(algorithm)),
            engine,
            dispatcher::prompt,
            media,
            LearningRateSchedule.of(algorithm, spec.totalSteps),
            info.getImageTokenId(),
            this::publish);
    trainerRef[0] = trainer;
    trainer.setPolicyVersion(policyVersion);
    if (state != null) {
      restore(state);
    }

    batcher =
        new GenerateBatcher(
            engine, options.sampleMaxBatch(), options.sampleWindow(), metrics::recordSampleBatch);
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(options.host(), options.grpcPort()))
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .maxInboundMessageSize(512 * 1024 * 1024)
            .addService(new LearnerGrpcService(dispatcher, this::status))
            .addService(
                new PolicyGrpcService(engine, batcher, engine::cachedInfo, trainer::policyVersion))
            .build()
            .start();
    registerGauges();
    sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("lease-sweeper").unstarted(r));
    sweeper.scheduleWithFixedDelay(dispatcher::sweepExpired, 1, 1, TimeUnit.SECONDS);
    runThread = Thread.ofPlatform().name("learner-run").start(this::run);
    ports = new Ports(server.getPort(), metricsPort);
    return ports;
  }

  private EngineLauncher launcher() {
    if (options.engineLauncher() != null) {
      return options.engineLauncher();
    }
    return new PythonEngineLauncher(
        new PythonEngineLauncher.EngineCommand(
            engineModel, spec.seed, options.engineDevice(), options.engineThreads()),
        workDir.resolve("engine.log"),
        options.engineStartupTimeout());
  }

  /** Built-in presets: the engine's default shape is "tiny". */
  static final List<String> BUILTIN_PRESETS = List.of("tiny");

  /**
   * The engine's {@code --model}: the resolved weights path, or {@code builtin} with the
   * engineOptions as its JSON config (integer model settings such as {@code d_model}).
   */
  static String engineModelArgument(RunFile runFile, ModelSpec model) throws IOException {
    ModelSpec m = model == null ? new ModelSpec() : model;
    if (m.weightsPath != null && !m.weightsPath.isBlank()) {
      return runFile.resolve(m.weightsPath).toString();
    }
    String preset = m.builtin == null ? "tiny" : m.builtin;
    if (!BUILTIN_PRESETS.contains(preset)) {
      throw new IOException(
          runFile.file()
              + ": spec.model.builtin: unknown preset '"
              + preset
              + "' (known: "
              + BUILTIN_PRESETS
              + "; shape it with spec.model.engineOptions)");
    }
    if (m.engineOptions == null || m.engineOptions.isEmpty()) {
      return "builtin";
    }
    ObjectNode json = JSON.createObjectNode();
    for (Map.Entry<String, String> e : new TreeMap<>(m.engineOptions).entrySet()) {
      try {
        json.put(e.getKey(), Long.parseLong(e.getValue().strip()));
      } catch (NumberFormatException notNumber) {
        throw new IOException(
            runFile.file()
                + ": spec.model.engineOptions."
                + e.getKey()
                + ": expected an integer, got '"
                + e.getValue()
                + "'");
      }
    }
    return "builtin:" + json;
  }

  private void restore(LearnerState state) {
    List<DispatcherState.OpenGroupState> open = new ArrayList<>();
    for (LearnerState.GroupRecord r : state.openGroups()) {
      open.add(StateCodec.open(r));
    }
    List<DispatcherState.CompletedGroupState> completed = new ArrayList<>();
    for (LearnerState.GroupRecord r : state.completedGroups()) {
      completed.add(StateCodec.completed(r));
    }
    dispatcher.restore(
        new DispatcherState(
            new PromptSampler.Cursor(state.dataEpoch(), state.dataPosition()),
            state.promptsAdmitted(),
            state.groupSequence(),
            open,
            completed),
        state.step());
    List<Group> carried = new ArrayList<>();
    for (LearnerState.GroupRecord r : state.carriedGroups()) {
      carried.add(StateCodec.group(r));
    }
    trainer.restore(state.step(), trainer.policyVersion(), carried);
    warmupStepsDone = state.warmupStepsDone();
    restoredTrajectoriesAccepted = state.trajectoriesAccepted();
    if (state.lastMetrics() != null) {
      latestMetrics.putAll(state.lastMetrics());
    }
  }

  private void registerGauges() {
    metrics.gauge(
        "rolloutfarm_learner_active_leases", "Leases held by workers", dispatcher::activeLeases);
    metrics.gauge(
        "rolloutfarm_learner_trajectories_accepted",
        "Trajectories accepted since the run started",
        () -> restoredTrajectoriesAccepted + dispatcher.counters().trajectoriesAccepted);
    metrics.gauge(
        "rolloutfarm_learner_trajectories_rejected",
        "Submissions rejected (expired lease, malformed, stale)",
        () -> dispatcher.counters().trajectoriesRejected);
    metrics.gauge(
        "rolloutfarm_learner_infra_failures",
        "Trajectories that failed for infrastructure reasons",
        () -> dispatcher.counters().infraFailures);
    metrics.gauge(
        "rolloutfarm_learner_leases_expired",
        "Leases that expired",
        () -> dispatcher.counters().leasesExpired);
    metrics.gauge(
        "rolloutfarm_learner_engine_healthy",
        "1 while the engine is up",
        () -> engine.healthy() ? 1 : 0);
    metrics.gauge("rolloutfarm_learner_engine_restarts", "Engine restarts", engine::restarts);
  }

  // ---- the run ------------------------------------------------------------------------------

  private void run() {
    try {
      warmup();
      if (closing) {
        return;
      }
      if (stopRequested) {
        message = "stopped during the warm-up";
        return;
      }
      phase = RunPhase.RUN_PHASE_TRAINING;
      message = "training";
      dispatcher.setPaused(false);
      long total = spec.totalSteps;
      while (trainer.step() < total && !closing && !stopRequested) {
        List<Group> round = dispatcher.awaitRound(Duration.ofMillis(500));
        if (round == null) {
          continue;
        }
        RlTrainer.StepResult result = trainer.runStep(round);
        CheckpointSpec ck = spec.checkpoint == null ? new CheckpointSpec() : spec.checkpoint;
        if (result.step() % ck.everySteps == 0 || result.step() == total) {
          checkpoint();
        }
        if (result.step() < total) {
          dispatcher.stepsDone(result.step()); // opens admission for the next step
        }
      }
      if (stopRequested && !closing) {
        // Interrupted by the user: keep what was learned so that the next start resumes here.
        if (lastCheckpointStep != trainer.step()) {
          checkpoint();
        }
        message = "stopped at step " + trainer.step();
        return;
      }
      if (!closing) {
        if (lastCheckpointStep != trainer.step()) {
          checkpoint();
        }
        phase = RunPhase.RUN_PHASE_COMPLETE;
        message = "completed " + trainer.step() + " steps";
        dispatcher.finish();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      if (!closing) {
        LOG.log(Level.SEVERE, "learner failed", t);
        phase = RunPhase.RUN_PHASE_FAILED;
        message = String.valueOf(t.getMessage() == null ? t : t.getMessage());
        dispatcher.finish();
      }
    } finally {
      done.countDown();
    }
  }

  private void warmup() throws IOException {
    WarmupSpec w = spec.warmup == null ? new WarmupSpec() : spec.warmup;
    if (w.steps <= 0 || warmupStepsDone >= w.steps) {
      return;
    }
    if (w.demonstrationsPath == null || w.demonstrationsPath.isBlank()) {
      throw new IOException(
          runFile.file() + ": spec.warmup.demonstrationsPath: required when warmup.steps > 0");
    }
    phase = RunPhase.RUN_PHASE_WARMUP;
    message = "behaviour-cloning warm-up";
    int imageToken = engine.cachedInfo().getImageTokenId();
    List<Demonstration> demos =
        DemonstrationReader.read(
            runFile.resolve(w.demonstrationsPath),
            text -> engine.tokenize(text).getTokenIdsList(),
            imageToken);
    AlgorithmSpec algorithm = spec.algorithm == null ? new AlgorithmSpec() : spec.algorithm;
    WarmupDriver driver =
        new WarmupDriver(
            engine,
            demos,
            w.batchSize,
            w.learningRate,
            algorithm.maxGradNorm,
            spec.seed,
            this::publish);
    for (int i = warmupStepsDone + 1; i <= w.steps && !closing && !stopRequested; i++) {
      trainer.setPolicyVersion(driver.step(i).getPolicyVersion());
      warmupStepsDone = i;
    }
    if (!closing) {
      checkpoint();
    }
  }

  /** Writes a checkpoint of the current state; the engine reloads it after a crash. */
  private Path checkpoint() throws IOException {
    DispatcherState d = dispatcher.snapshot();
    Map<String, Double> last = new LinkedHashMap<>(latestMetrics);
    LearnerState state =
        new LearnerState(
            LearnerState.FORMAT,
            trainer.step(),
            trainer.policyVersion(),
            warmupStepsDone,
            d.cursor().epoch(),
            d.cursor().position(),
            d.promptsAdmitted(),
            d.groupSequence(),
            d.openGroups().stream().map(StateCodec::open).toList(),
            d.completedGroups().stream().map(StateCodec::completed).toList(),
            trainer.carried().stream().map(StateCodec::group).toList(),
            restoredTrajectoriesAccepted + dispatcher.counters().trajectoriesAccepted,
            last);
    CheckpointStore.Checkpoint ck = null;
    for (int attempt = 1; ck == null; attempt++) {
      try {
        ck = checkpoints.save(state, dir -> engine.saveCheckpoint(dir));
      } catch (EngineUnavailableException e) {
        if (e.permanent() || attempt >= 3) {
          throw e;
        }
      }
    }
    engine.setLastCheckpoint(ck.engineDirectory());
    lastCheckpointStep = ck.step();
    LOG.info("checkpoint " + ck.directory());
    return ck.directory();
  }

  private void publish(StepMetrics m) {
    String prefix = "train".equals(m.phase()) ? "" : m.phase() + "_";
    for (Map.Entry<String, Double> e : m.values().entrySet()) {
      latestMetrics.put(prefix + e.getKey(), e.getValue());
    }
    for (StepListener l : listeners) {
      try {
        l.onStep(m);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "step listener failed", e);
      }
    }
  }

  // ---- what callers use ---------------------------------------------------------------------

  /** Adds a listener called after every warm-up and RL step (and evaluation report). */
  public void addStepListener(StepListener listener) {
    listeners.add(listener);
  }

  /** The run's progress, as LearnerService.GetRunStatus reports it. */
  public RunStatus status() {
    RunStatus.Builder s =
        RunStatus.newBuilder()
            .setPhase(phase)
            .setTotalSteps(spec.totalSteps)
            .setMessage(message)
            .putAllMetrics(latestMetrics)
            .setUpdatedUnixMs(Instant.now().toEpochMilli());
    if (trainer != null) {
      s.setStep(trainer.step()).setPolicyVersion(trainer.policyVersion());
    }
    if (dispatcher != null) {
      s.setActiveLeases(dispatcher.activeLeases())
          .setTrajectoriesAccepted(
              restoredTrajectoriesAccepted + dispatcher.counters().trajectoriesAccepted);
    }
    boolean engineOk = engine != null && engine.healthy();
    s.setHealthy(engineOk && phase != RunPhase.RUN_PHASE_FAILED);
    if (engine != null && !engineOk && phase != RunPhase.RUN_PHASE_FAILED) {
      s.setMessage(message + " (engine: " + engine.lastFailure() + ")");
    }
    return s.build();
  }

  /**
   * The held-out split as tasks (one rollout each, group index 0), for evaluation through the same
   * rollout path; empty when the run has no {@code dataset.evalPath}.
   */
  public List<Task> evaluationTasks() {
    if (evalDataset == null) {
      return List.of();
    }
    List<Task> tasks = new ArrayList<>();
    for (Prompt p : evalDataset.prompts()) {
      tasks.add(media.task(p, "eval/" + p.id()).build());
    }
    return tasks;
  }

  /** An evaluation in progress; closing it resumes training dispatch. */
  public interface Evaluation extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Pauses new training leases and reports phase EVALUATING until the returned handle is closed.
   * Rollouts already leased still complete and are trained on.
   */
  public Evaluation beginEvaluation() {
    requireStarted();
    RunPhase before = phase;
    phase = RunPhase.RUN_PHASE_EVALUATING;
    dispatcher.setPaused(true);
    return () -> {
      if (phase == RunPhase.RUN_PHASE_EVALUATING) {
        phase = before == RunPhase.RUN_PHASE_STARTING ? RunPhase.RUN_PHASE_TRAINING : before;
      }
      if (phase == RunPhase.RUN_PHASE_TRAINING) {
        dispatcher.setPaused(false);
      }
    };
  }

  /**
   * Records held-out results: they appear in status metrics prefixed {@code eval_} and go to the
   * step listeners as phase {@code eval} at the current step.
   */
  public void reportEvaluation(Map<String, Double> results) {
    requireStarted();
    publish(
        new StepMetrics("eval", trainer.step(), trainer.policyVersion(), Instant.now(), results));
  }

  /** Waits for the run to complete or fail; true when it ended within {@code timeout}. */
  public boolean awaitCompletion(Duration timeout) throws InterruptedException {
    return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Where checkpoints go. */
  public Path checkpointDirectory() {
    return checkpoints.root();
  }

  /** The engine process id, when the engine runs as its own process. */
  public OptionalLong enginePid() {
    return engine == null ? OptionalLong.empty() : engine.enginePid();
  }

  /** Engine restarts so far. */
  public int engineRestarts() {
    return engine == null ? 0 : engine.restarts();
  }

  /** The Prometheus text exposition (also served at /metrics). */
  public String prometheusMetrics() {
    return metrics.scrape();
  }

  private void requireStarted() {
    if (dispatcher == null) {
      throw new IllegalStateException("the learner has not started");
    }
  }

  /**
   * Graceful stop (SIGTERM): lets the step in progress finish, stops serving so that nothing more
   * is accepted, writes a checkpoint holding everything accepted so far, then closes. A run that
   * already completed or failed is closed without a new checkpoint.
   *
   * @return the checkpoint written, if one was
   */
  public synchronized Optional<Path> checkpointAndClose() throws IOException {
    if (closed) {
      return Optional.empty();
    }
    stopTraining();
    stopServing();
    Optional<Path> written = Optional.empty();
    try {
      boolean resumable =
          dispatcher != null
              && phase != RunPhase.RUN_PHASE_COMPLETE
              && phase != RunPhase.RUN_PHASE_FAILED;
      if (resumable) {
        written = Optional.of(checkpoint());
      }
    } finally {
      close();
    }
    return written;
  }

  /**
   * Asks the run to stop after the step in progress and to write a checkpoint of it, so that the
   * next start resumes there; returns once that is done (or {@code timeout} passed). Serving and
   * the engine keep running until {@link #close}.
   */
  public boolean stopAndCheckpoint(Duration timeout) throws InterruptedException {
    stopRequested = true;
    if (dispatcher != null) {
      dispatcher.setPaused(true);
    }
    return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops serving and training (without a final checkpoint) and stops the engine. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopTraining();
    stopServing();
    if (sweeper != null) {
      sweeper.shutdownNow();
    }
    if (batcher != null) {
      batcher.close();
    }
    if (engine != null) {
      engine.close();
    }
    metrics.close();
    done.countDown();
  }

  /** Wakes the run thread and waits for it to leave its step, so that the state is consistent. */
  private void stopTraining() {
    closing = true;
    if (dispatcher != null) {
      dispatcher.stop();
    }
    if (runThread != null) {
      try {
        runThread.join(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (runThread.isAlive()) {
        runThread.interrupt();
      }
    }
  }

  /** Stops the gRPC server, letting calls in flight (trajectory submissions) finish first. */
  private void stopServing() {
    if (server != null && !server.isShutdown()) {
      server.shutdown();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException e) {
        server.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}

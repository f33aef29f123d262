package io.rolloutfarm.learner.engine;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rolloutfarm.proto.v1.EngineInfo;
import io.rolloutfarm.proto.v1.EngineInfoRequest;
import io.rolloutfarm.proto.v1.EngineServiceGrpc;
import io.rolloutfarm.proto.v1.LoadCheckpointRequest;
import io.rolloutfarm.proto.v1.LoadCheckpointResponse;
import io.rolloutfarm.proto.v1.SampleRequest;
import io.rolloutfarm.proto.v1.SampleResponse;
import io.rolloutfarm.proto.v1.SaveCheckpointRequest;
import io.rolloutfarm.proto.v1.SaveCheckpointResponse;
import io.rolloutfarm.proto.v1.SupervisedStepRequest;
import io.rolloutfarm.proto.v1.SupervisedStepResponse;
import io.rolloutfarm.proto.v1.TokenizeRequest;
import io.rolloutfarm.proto.v1.TokenizeResponse;
import io.rolloutfarm.proto.v1.TrainStepRequest;
import io.rolloutfarm.proto.v1.TrainStepResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs the engine and keeps it running: starts it, checks its health (process liveness always, an
 * {@code Info} call whenever it is idle), restarts it after a crash with exponential backoff
 * (bounded: after {@code maxRestartAttempts} failed starts in a row it gives up), and after a
 * restart reloads the last checkpoint the learner registered, so the policy continues from there.
 *
 * <p>Calls made while the engine restarts wait for it (up to {@code readyTimeout}). A call that the
 * crash interrupted is retried once on the new engine when it is idempotent (info, tokenize,
 * sample); updates and checkpoint writes throw {@link EngineUnavailableException} so that the
 * caller decides (the training loop repeats the update on the restored policy).
 */
public final class EngineSupervisor implements Engine, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(EngineSupervisor.class.getName());

  /** Timing of supervision. */
  public record Options(
      Duration readyTimeout,
      Duration healthInterval,
      Duration initialBackoff,
      Duration maxBackoff,
      int maxRestartAttempts,
      Duration quickCallDeadline,
      Duration sampleDeadline,
      Duration trainDeadline) {

    public static Options defaults() {
      return new Options(
          Duration.ofMinutes(10),
          Duration.ofSeconds(5),
          Duration.ofMillis(500),
          Duration.ofSeconds(30),
          5,
          Duration.ofSeconds(60),
          Duration.ofMinutes(10),
          Duration.ofHours(1));
    }
  }

  private enum State {
    NEW,
    READY,
    RESTARTING,
    FAILED,
    CLOSED
  }

  private final EngineLauncher launcher;
  private final Options options;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition stateChanged = lock.newCondition();
  private final ScheduledExecutorService background =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("engine-supervisor").unstarted(r));
  private final AtomicInteger inFlight = new AtomicInteger();

  private State state = State.NEW;
  private EngineLauncher.LaunchedEngine current;
  private EngineServiceGrpc.EngineServiceBlockingStub stub;
  private long generation;
  private int incarnation;
  private int restarts;
  private String lastFailure = "";
  private Path lastCheckpoint;
  private EngineInfo info;

  public EngineSupervisor(EngineLauncher launcher, Options options) {
    this.launcher = launcher;
    this.options = options;
  }

  /** Starts the engine and waits until it answers {@code Info}. */
  public EngineInfo start() throws IOException {
    lock.lock();
    try {
      if (state != State.NEW) {
        throw new IllegalStateException("engine already started");
      }
      state = State.RESTARTING;
      lastFailure = "starting";
    } finally {
      lock.unlock();
    }
    Launched launched;
    try {
      launched = launch();
    } catch (IOException | RuntimeException e) {
      lock.lock();
      try {
        state = State.FAILED;
        lastFailure = e.getMessage();
        stateChanged.signalAll();
      } finally {
        lock.unlock();
      }
      throw e;
    }
    lock.lock();
    try {
      if (state == State.CLOSED) {
        launched.engine().destroy();
        throw new IOException("supervisor closed while the engine started");
      }
      installLocked(launched);
    } finally {
      lock.unlock();
    }
    long interval = options.healthInterval().toMillis();
    background.scheduleWithFixedDelay(this::checkHealth, interval, interval, TimeUnit.MILLISECONDS);
    return info;
  }

  private record Launched(
      EngineLauncher.LaunchedEngine engine,
      EngineServiceGrpc.EngineServiceBlockingStub stub,
      EngineInfo info) {}

  /** Starts an engine, checks it answers and reloads the last checkpoint; no lock held. */
  private Launched launch() throws IOException {
    int number;
    Path checkpoint;
    lock.lock();
    try {
      number = incarnation++;
      checkpoint = lastCheckpoint;
    } finally {
      lock.unlock();
    }
    EngineLauncher.LaunchedEngine engine = launcher.launch(number);
    try {
      EngineServiceGrpc.EngineServiceBlockingStub s =
          EngineServiceGrpc.newBlockingStub(engine.channel());
      EngineInfo i =
          s.withDeadlineAfter(options.readyTimeout().toMillis(), TimeUnit.MILLISECONDS)
              .info(EngineInfoRequest.getDefaultInstance());
      if (checkpoint != null) {
        LoadCheckpointResponse loaded =
            s.withDeadlineAfter(options.readyTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .loadCheckpoint(
                    LoadCheckpointRequest.newBuilder().setDirectory(checkpoint.toString()).build());
        i = i.toBuilder().setPolicyVersion(loaded.getPolicyVersion()).build();
        LOG.info(
            "engine reloaded checkpoint "
                + checkpoint
                + " (policy version "
                + loaded.getPolicyVersion()
                + ")");
      }
      return new Launched(engine, s, i);
    } catch (RuntimeException e) {
      engine.destroy();
      throw new IOException("engine started but did not answer: " + e.getMessage(), e);
    }
  }

  private void installLocked(Launched launched) {
    current = launched.engine();
    stub = launched.stub();
    info = launched.info();
    generation++;
    state = State.READY;
    stateChanged.signalAll();
  }

  /** Registers the checkpoint that a restarted engine loads. */
  public void setLastCheckpoint(Path engineDirectory) {
    lock.lock();
    try {
      lastCheckpoint = engineDirectory;
    } finally {
      lock.unlock();
    }
  }

  /** True while the engine is up and not restarting. */
  public boolean healthy() {
    lock.lock();
    try {
      return state == State.READY && current != null && current.isAlive();
    } finally {
      lock.unlock();
    }
  }

  /** True after the engine failed for good. */
  public boolean failed() {
    lock.lock();
    try {
      return state == State.FAILED;
    } finally {
      lock.unlock();
    }
  }

  public int restarts() {
    lock.lock();
    try {
      return restarts;
    } finally {
      lock.unlock();
    }
  }

  public String lastFailure() {
    lock.lock();
    try {
      return lastFailure;
    } finally {
      lock.unlock();
    }
  }

  /** Engine facts as of the last start (policy version may be older than the engine's). */
  public EngineInfo cachedInfo() {
    lock.lock();
    try {
      return info;
    } finally {
      lock.unlock();
    }
  }

  /** The current engine's process id (for tools and tests). */
  public OptionalLong enginePid() {
    lock.lock();
    try {
      return current == null ? OptionalLong.empty() : current.pid();
    } finally {
      lock.unlock();
    }
  }

  /** Waits until the engine is ready; throws when it failed for good or does not come back. */
  public void awaitReady(Duration timeout) {
    lock.lock();
    try {
      long nanos = timeout.toNanos();
      while (state != State.READY) {
        if (state == State.FAILED || state == State.CLOSED) {
          throw new EngineUnavailableException(
              "engine is " + state.name().toLowerCase() + ": " + lastFailure, true, null);
        }
        if (nanos <= 0) {
          throw new EngineUnavailableException(
              "engine is restarting (" + lastFailure + "); retry later", false, null);
        }
        nanos = stateChanged.awaitNanos(nanos);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineUnavailableException("interrupted while waiting for the engine", false, e);
    } finally {
      lock.unlock();
    }
  }

  private <T> T call(
      String name,
      Duration deadline,
      boolean idempotent,
      Function<EngineServiceGrpc.EngineServiceBlockingStub, T> fn) {
    for (int attempt = 0; ; attempt++) {
      awaitReady(options.readyTimeout());
      EngineServiceGrpc.EngineServiceBlockingStub s;
      long gen;
      lock.lock();
      try {
        s = stub;
        gen = generation;
      } finally {
        lock.unlock();
      }
      inFlight.incrementAndGet();
      try {
        return fn.apply(s.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS));
      } catch (StatusRuntimeException e) {
        if (!isCrash(e, gen)) {
          throw e;
        }
        String why = name + " failed: " + e.getStatus();
        engineFailed(gen, why);
        if (!idempotent || attempt >= 1) {
          throw new EngineUnavailableException(
              "engine crashed during " + name + "; it is being restarted", false, e);
        }
      } finally {
        inFlight.decrementAndGet();
      }
    }
  }

  /** UNAVAILABLE (or a cancelled stream) from an engine whose process is gone is a crash. */
  private boolean isCrash(StatusRuntimeException e, long gen) {
    Status.Code code = e.getStatus().getCode();
    if (code != Status.Code.UNAVAILABLE
        && code != Status.Code.CANCELLED
        && code != Status.Code.UNKNOWN
        && code != Status.Code.INTERNAL) {
      return false;
    }
    EngineLauncher.LaunchedEngine engine;
    lock.lock();
    try {
      if (gen != generation) {
        return true; // a restart already happened
      }
      engine = current;
    } finally {
      lock.unlock();
    }
    // The process may take a moment to be reaped after its socket closed.
    for (int i = 0; i < 20 && engine.isAlive(); i++) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return !engine.isAlive() || code == Status.Code.UNAVAILABLE;
  }

  /** Starts a restart of engine generation {@code gen}, unless one is already under way. */
  private void engineFailed(long gen, String why) {
    lock.lock();
    try {
      if (gen != generation || state != State.READY) {
        return;
      }
      state = State.RESTARTING;
      lastFailure = why;
      stateChanged.signalAll();
    } finally {
      lock.unlock();
    }
    LOG.warning("engine failed (" + why + "); restarting");
    background.execute(this::restartLoop);
  }

  private void restartLoop() {
    long backoff = options.initialBackoff().toMillis();
    for (int attempt = 1; ; attempt++) {
      lock.lock();
      try {
        if (state == State.CLOSED) {
          return;
        }
        if (current != null) {
          current.destroy();
        }
      } finally {
        lock.unlock();
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        return;
      }
      Launched launched;
      try {
        launched = launch();
      } catch (IOException | RuntimeException e) {
        lock.lock();
        try {
          lastFailure = "restart attempt " + attempt + " failed: " + e.getMessage();
          LOG.log(Level.WARNING, "engine " + lastFailure, e);
          if (attempt >= options.maxRestartAttempts() || state == State.CLOSED) {
            if (state != State.CLOSED) {
              state = State.FAILED;
            }
            stateChanged.signalAll();
            return;
          }
        } finally {
          lock.unlock();
        }
        backoff = Math.min(backoff * 2, options.maxBackoff().toMillis());
        continue;
      }
      lock.lock();
      try {
        if (state == State.CLOSED) {
          launched.engine().destroy();
          return;
        }
        restarts++;
        installLocked(launched);
        LOG.info("engine restarted (" + current.describe() + ", restart " + restarts + ")");
        return;
      } finally {
        lock.unlock();
      }
    }
  }

  private void checkHealth() {
    EngineLauncher.LaunchedEngine engine;
    EngineServiceGrpc.EngineServiceBlockingStub s;
    long gen;
    lock.lock();
    try {
      if (state != State.READY) {
        return;
      }
      engine = current;
      s = stub;
      gen = generation;
    } finally {
      lock.unlock();
    }
    if (!engine.isAlive()) {
      engineFailed(gen, "engine process exited");
      return;
    }
    // The engine serves one call at a time, so only probe it while nothing else is running.
    if (inFlight.get() == 0) {
      try {
        s.withDeadlineAfter(options.quickCallDeadline().toMillis(), TimeUnit.MILLISECONDS)
            .info(EngineInfoRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        if (!engine.isAlive() || e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
          engineFailed(gen, "health check failed: " + e.getStatus());
        }
      }
    }
  }

  @Override
  public EngineInfo info() {
    return call(
        "Info",
        options.quickCallDeadline(),
        true,
        s -> s.info(EngineInfoRequest.getDefaultInstance()));
  }

  @Override
  public TokenizeResponse tokenize(String text) {
    return call(
        "Tokenize",
        options.quickCallDeadline(),
        true,
        s -> s.tokenize(TokenizeRequest.newBuilder().setText(text).build()));
  }

  @Override
  public SampleResponse sample(SampleRequest request) {
    return call("Sample", options.sampleDeadline(), true, s -> s.sample(request));
  }

  @Override
  public TrainStepResponse trainStep(TrainStepRequest request) {
    return call("TrainStep", options.trainDeadline(), false, s -> s.trainStep(request));
  }

  @Override
  public SupervisedStepResponse supervisedStep(SupervisedStepRequest request) {
    return call("SupervisedStep", options.trainDeadline(), false, s -> s.supervisedStep(request));
  }

  @Override
  public SaveCheckpointResponse saveCheckpoint(Path directory) {
    return call(
        "SaveCheckpoint",
        options.trainDeadline(),
        false,
        s ->
            s.saveCheckpoint(
                SaveCheckpointRequest.newBuilder().setDirectory(directory.toString()).build()));
  }

  @Override
  public LoadCheckpointResponse loadCheckpoint(Path directory) {
    return call(
        "LoadCheckpoint",
        options.trainDeadline(),
        false,
        s ->
            s.loadCheckpoint(
                LoadCheckpointRequest.newBuilder().setDirectory(directory.toString()).build()));
  }

  @Override
  public void close() {
    lock.lock();
    try {
      state = State.CLOSED;
      stateChanged.signalAll();
    } finally {
      lock.unlock();
    }
    background.shutdownNow();
    try {
      background.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    lock.lock();
    try {
      if (current != null) {
        current.destroy();
        current = null;
      }
    } finally {
      lock.unlock();
    }
  }
}

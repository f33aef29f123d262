package io.rolloutfarm.learner;

import io.rolloutfarm.learner.engine.EngineLauncher;
import io.rolloutfarm.learner.engine.EngineSupervisor;
import java.time.Clock;
import java.time.Duration;

/**
 * How a {@link Learner} runs, beyond what the TrainingRun says: ports, lease timing, batching and
 * how the engine is started. Immutable; {@code with...} methods return changed copies.
 *
 * @param host address the servers bind to
 * @param grpcPort LearnerService and PolicyService port; 0 picks a free one
 * @param metricsPort Prometheus {@code /metrics} port; 0 picks a free one, -1 serves none
 * @param leaseDuration how long a task lease lives without renewal
 * @param maxAttempts attempts per rollout task before its group is masked
 * @param sampleMaxBatch most generation requests in one engine Sample call
 * @param sampleWindow how long a batch waits for more requests after its first
 * @param engineLauncher how to start the engine; null starts the Python engine
 * @param engineDevice {@code auto}, {@code cpu} or {@code cuda}
 * @param engineThreads torch CPU threads; 0 lets the engine choose
 * @param engineStartupTimeout how long the Python engine may take to report its port
 * @param supervision engine supervision timing
 * @param clock time source of lease deadlines
 */
public record LearnerOptions(
    String host,
    int grpcPort,
    int metricsPort,
    Duration leaseDuration,
    int maxAttempts,
    int sampleMaxBatch,
    Duration sampleWindow,
    EngineLauncher engineLauncher,
    String engineDevice,
    int engineThreads,
    Duration engineStartupTimeout,
    EngineSupervisor.Options supervision,
    Clock clock) {

  public static LearnerOptions defaults() {
    return new LearnerOptions(
        "0.0.0.0",
        50051,
        9090,
        Duration.ofMinutes(5),
        3,
        64,
        Duration.ofMillis(5),
        null,
        "auto",
        0,
        Duration.ofMinutes(5),
        EngineSupervisor.Options.defaults(),
        Clock.systemUTC());
  }

  /** Local and test use: loopback only, free ports, no metrics server. */
  public static LearnerOptions local() {
    return defaults().withHost("127.0.0.1").withPorts(0, -1);
  }

  public LearnerOptions withHost(String value) {
    return new LearnerOptions(
        value,
        grpcPort,
        metricsPort,
        leaseDuration,
        maxAttempts,
        sampleMaxBatch,
        sampleWindow,
        engineLauncher,
        engineDevice,
        engineThreads,
        engineStartupTimeout,
        supervision,
        clock);
  }

  public LearnerOptions withPorts(int grpc, int metrics) {
    return new LearnerOptions(
        host,
        grpc,
        metrics,
        leaseDuration,
        maxAttempts,
        sampleMaxBatch,
        sampleWindow,
        engineLauncher,
        engineDevice,
        engineThreads,
        engineStartupTimeout,
        supervision,
        clock);
  }

  public LearnerOptions withLeaseDuration(Duration value) {
    return new LearnerOptions(
        host,
        grpcPort,
        metricsPort,
        value,
        maxAttempts,
        sampleMaxBatch,
        sampleWindow,
        engineLauncher,
        engineDevice,
        engineThreads,
        engineStartupTimeout,
        supervision,
        clock);
  }

  public LearnerOptions withMaxAttempts(int value) {
    return new LearnerOptions(
        host,
        grpcPort,
        metricsPort,
        leaseDuration,
        value,
        sampleMaxBatch,
        sampleWindow,
        engineLauncher,
        engineDevice,
        engineThreads,
        engineStartupTimeout,
        supervision,
        clock);
  }

  public LearnerOptions withSampleBatching(int maxBatch, Duration window) {
    return new LearnerOptions(
        host,
        grpcPort,
        metricsPort,
        leaseDuration,
        maxAttempts,
        maxBatch,
        window,
        engineLauncher,
        engineDevice,
        engineThreads,
        engineStartupTimeout,
        supervision,
        clock);
  }

  public LearnerOptions withEngineLauncher(EngineLauncher value) {
    return new LearnerOptions(
        host,
        grpcPort,
        metricsPort,
        leaseDuration,
        maxAttempts,
        sampleMaxBatch,
        sampleWindow,
        value,
        engineDevice,
        engineThreads,
        engineStartupTimeout,
        supervision,
        clock);
  }

  public LearnerOptions withEngine(String device, int threads) {
    return new LearnerOptions(
        host,
        grpcPort,
        metricsPort,
        leaseDuration,
        maxAttempts,
        sampleMaxBatch,
        sampleWindow,
        engineLauncher,
        device,
        threads,
        engineStartupTimeout,
        supervision,
        clock);
  }

  public LearnerOptions withSupervision(EngineSupervisor.Options value) {
    return new LearnerOptions(
        host,
        grpcPort,
        metricsPort,
        leaseDuration,
        maxAttempts,
        sampleMaxBatch,
        sampleWindow,
        engineLauncher,
        engineDevice,
        engineThreads,
        engineStartupTimeout,
        value,
        clock);
  }

  public LearnerOptions withClock(Clock value) {
    return new LearnerOptions(
        host,
        grpcPort,
        metricsPort,
        leaseDuration,
        maxAttempts,
        sampleMaxBatch,
        sampleWindow,
        engineLauncher,
        engineDevice,
        engineThreads,
        engineStartupTimeout,
        supervision,
        value);
  }
}

package io.rolloutfarm.worker.bench;

import com.google.protobuf.ByteString;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Verifier;
import io.rolloutfarm.worker.RolloutWorker;
import io.rolloutfarm.worker.WorkerConfig;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.policy.GrpcPolicy;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;

/**
 * Measures how close one worker JVM comes to the ideal trajectory rate, {@code concurrency ÷
 * per-trajectory latency}, when the policy is a simulated server with a fixed generation latency.
 *
 * <p>The learner, the simulated policy and (unless a real sandbox target is given) a simulated
 * sandbox run in this JVM as gRPC servers on 127.0.0.1 on their own threads (named {@code
 * bench-…}); the worker talks to them over real sockets. Worker CPU is the process CPU minus the
 * CPU of those server threads; heap is the peak used heap of the whole JVM while a level runs.
 */
public final class RolloutBenchmark {
  /**
   * Benchmark settings.
   *
   * @param sandboxTarget real sandbox servers ({@code host:port,...}), or null for the simulated
   *     one
   */
  public record Options(
      long policyLatencyMs,
      long sandboxLatencyMs,
      int turns,
      int waves,
      List<Integer> concurrencies,
      String sandboxTarget) {
    public static Options defaults() {
      return new Options(2000, 50, 3, 3, List.of(100, 1000), null);
    }

    /** What the sandbox in this run is, for tables. */
    public String sandboxDescription() {
      return sandboxTarget == null
          ? "simulated gRPC sandbox in this JVM (" + sandboxLatencyMs + " ms per execution)"
          : "real sandbox at " + sandboxTarget;
    }
  }

  /**
   * One concurrency level's figures.
   *
   * @param latencyMs per-trajectory latency the ideal is computed from
   */
  public record Level(
      int concurrency,
      int trajectories,
      double elapsedS,
      double latencyMs,
      double achievedPerS,
      double idealPerS,
      double efficiency,
      double workerCpuMsPerTrajectory,
      double peakHeapMb) {}

  /** Everything measured. */
  public record Result(Options options, double baselineSandboxMsPerTrajectory, List<Level> levels) {
    public Level level(int concurrency) {
      return levels.stream()
          .filter(l -> l.concurrency() == concurrency)
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no level " + concurrency));
    }
  }

  private final Options options;
  private final List<AutoCloseable> resources = new ArrayList<>();

  public RolloutBenchmark(Options options) {
    if (options.turns() < 1 || options.waves() < 1) {
      throw new IllegalArgumentException("turns and waves must be at least 1");
    }
    this.options = options;
  }

  /** Runs a warm-up, a concurrency-1 baseline and every level. */
  public Result run() throws Exception {
    // Warm-up: JIT the worker's paths with short latencies; not measured.
    runLevel(50, 2, 20, null);
    // Baseline: one trajectory at a time gives the sandbox's own share of a trajectory.
    Level baseline = runLevel(1, 5, 20, null);
    double sandboxMs = baseline.latencyMs();
    List<Level> levels = new ArrayList<>();
    for (int c : options.concurrencies()) {
      levels.add(runLevel(c, options.waves() * c, options.policyLatencyMs(), sandboxMs));
    }
    return new Result(options, sandboxMs, levels);
  }

  /**
   * Runs {@code total} trajectories at concurrency {@code c}. With {@code sandboxMs == null} the
   * level measures the sandbox share (median trajectory sandbox time) and reports it as latency.
   */
  private Level runLevel(int c, int total, long policyLatencyMs, Double sandboxMs)
      throws Exception {
    ScheduledExecutorService timer = Executors.newScheduledThreadPool(2, named("bench-timer"));
    NioEventLoopGroup boss = new NioEventLoopGroup(1, named("bench-server-boss"));
    NioEventLoopGroup elg = new NioEventLoopGroup(2, named("bench-server-elg"));
    ExecutorService serverExecutor = Executors.newFixedThreadPool(2, named("bench-server-exec"));
    BenchLearnerService learner = new BenchLearnerService(task(), total);
    List<Server> servers = new ArrayList<>();
    try {
      Server learnerServer =
          serve(
              boss,
              elg,
              serverExecutor,
              learner,
              new SimulatedPolicyService(policyLatencyMs, options.turns(), timer));
      servers.add(learnerServer);
      String sandboxTarget = options.sandboxTarget();
      if (sandboxTarget == null) {
        Server sandbox =
            serve(
                boss,
                elg,
                serverExecutor,
                new SimulatedSandboxService(options.sandboxLatencyMs(), timer));
        servers.add(sandbox);
        sandboxTarget = "127.0.0.1:" + sandbox.getPort();
      }
      String learnerAddress = "127.0.0.1:" + learnerServer.getPort();
      ManagedChannel learnerChannel = RolloutWorker.channel(learnerAddress);
      ManagedChannel policyChannel = RolloutWorker.channel(learnerAddress);
      GrpcPolicy policy;
      try {
        policy = new GrpcPolicy(policyChannel, learnerAddress, Duration.ofMinutes(5));
      } catch (PolicyFailure e) {
        throw new IllegalStateException("simulated policy unreachable: " + e.getMessage(), e);
      }
      GrpcSandboxes sandboxes =
          GrpcSandboxes.connect(sandboxTarget, GrpcSandboxes.Deadlines.defaults(), 0);
      AgentSettings agent = AgentSettings.defaults().withLimits(options.turns(), 1024, 1 << 20, 16);
      WorkerConfig config =
          WorkerConfig.of("bench", c, agent)
              .withIntervals(
                  Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofSeconds(10));
      WorkerMetrics metrics = WorkerMetrics.inMemory();
      RolloutWorker worker =
          new RolloutWorker(config, learnerChannel, policy, sandboxes, metrics)
              .owning(policyChannel::shutdownNow, learnerChannel::shutdownNow, sandboxes);
      System.gc();
      HeapSampler heap = new HeapSampler();
      long cpu0 = processCpuNanos();
      long bench0 = benchThreadCpuNanos();
      long t0 = System.nanoTime();
      worker.start();
      double expectedS =
          total / (double) c * (options.turns() * policyLatencyMs + 100.0 * options.turns()) / 1000;
      boolean finished = worker.awaitRunFinished(Duration.ofSeconds((long) (expectedS * 5 + 120)));
      long t1 = System.nanoTime();
      long cpu1 = processCpuNanos();
      long bench1 = benchThreadCpuNanos();
      double peakHeap = heap.stop();
      worker.close();
      if (!finished || learner.accepted() != total || learner.done() != total) {
        throw new IllegalStateException(
            "benchmark level "
                + c
                + " did not complete: "
                + learner.accepted()
                + " of "
                + total
                + " trajectories acknowledged, "
                + learner.done()
                + " answered");
      }
      double elapsedS = (t1 - t0) / 1e9;
      double workerCpuMs = Math.max(0, (cpu1 - cpu0) - (bench1 - bench0)) / 1e6;
      double sandboxShare =
          metrics.registry().find("rollout.sandbox.latency").timers().stream()
                  .mapToDouble(t -> t.totalTime(TimeUnit.MILLISECONDS))
                  .sum()
              / total;
      double latencyMs =
          sandboxMs == null ? sandboxShare : options.turns() * (double) policyLatencyMs + sandboxMs;
      double achieved = total / elapsedS;
      double ideal = c / (latencyMs / 1000.0);
      return new Level(
          c,
          total,
          elapsedS,
          latencyMs,
          achieved,
          ideal,
          sandboxMs == null ? Double.NaN : achieved / ideal,
          workerCpuMs / total,
          peakHeap / (1024.0 * 1024.0));
    } finally {
      for (Server s : servers) {
        s.shutdownNow();
      }
      for (Server s : servers) {
        s.awaitTermination(10, TimeUnit.SECONDS);
      }
      timer.shutdownNow();
      serverExecutor.shutdownNow();
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      elg.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private static Server serve(
      NioEventLoopGroup boss,
      NioEventLoopGroup elg,
      ExecutorService executor,
      BindableService... services)
      throws IOException {
    NettyServerBuilder b =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(elg)
            .channelType(NioServerSocketChannel.class)
            .executor(executor);
    for (BindableService s : services) {
      b.addService(s);
    }
    return b.build().start();
  }

  /** The benchmark's task: one 64×64 image, numeric answer 1. */
  static Task task() {
    BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", png);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return Task.newBuilder()
        .setTaskId("bench")
        .setPromptId("bench")
        .setQuestion("What is the size of the image?")
        .setAnswer("1")
        .addMedia(
            Media.newBuilder()
                .setName("image_clue_0")
                .setMimeType("image/png")
                .setData(ByteString.copyFrom(png.toByteArray())))
        .setVerifier(Verifier.newBuilder().setKind("numeric"))
        .build();
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** CPU time of the benchmark's own server threads (not the worker's). */
  private static long benchThreadCpuNanos() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith("bench-")) {
        long t = threads.getThreadCpuTime(info.getThreadId());
        if (t > 0) {
          sum += t;
        }
      }
    }
    return sum;
  }

  /** Samples used heap every 20 ms and keeps the peak. */
  private static final class HeapSampler {
    private final AtomicLong peak = new AtomicLong();
    private final Thread thread;

    HeapSampler() {
      MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
      thread =
          Thread.ofPlatform()
              .daemon()
              .name("bench-heap-sampler")
              .start(
                  () -> {
                    while (!Thread.currentThread().isInterrupted()) {
                      peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                      try {
                        Thread.sleep(20);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
    }

    double stop() throws InterruptedException {
      thread.interrupt();
      thread.join();
      return peak.get();
    }
  }
}

package io.rolloutfarm.worker.bench;

import com.google.protobuf.ByteString;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Verifier;
import io.rolloutfarm.worker.RolloutWorker;
import io.rolloutfarm.worker.WorkerConfig;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.policy.GrpcPolicy;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.sandbox.SandboxProcess;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
 * per-trajectory latency}, when the policy is a simulated server with a fixed generation latency
 * and the code runs in real sandbox sessions.
 *
 * <p>The learner and the simulated policy run in this JVM as gRPC servers on 127.0.0.1 on their own
 * threads (named {@code bench-…}). The sandbox servers run in a separate JVM ({@link
 * SandboxProcess}), unless external ones are given, so their CPU is not the worker's. Every
 * trajectory holds one real Python session from its first turn to its answer, and every code turn
 * executes there; a level fails unless every execution printed the image size. Worker CPU is this
 * process's CPU minus the CPU of the {@code bench-} threads; heap is the peak used heap of this JVM
 * while a level runs.
 */
public final class RolloutBenchmark {
  static final int WARM_UP_CONCURRENCY = 20;

  /**
   * Benchmark settings.
   *
   * @param sandboxTarget external sandbox servers ({@code host:port,...}), or null to start {@code
   *     sandboxServers} servers in a separate JVM
   * @param sandboxServers sandbox servers to start when no target is given; their capacity is split
   *     so that the largest level fits
   */
  public record Options(
      List<Long> policyLatenciesMs,
      int turns,
      int waves,
      List<Integer> concurrencies,
      String sandboxTarget,
      int sandboxServers) {
    public static Options defaults() {
      return new Options(List.of(10_000L, 150_000L), 3, 1, List.of(100, 1000), null, 4);
    }

    /** Generation latency at level {@code i}; a single value applies to every level. */
    public long policyLatencyMs(int i) {
      return policyLatenciesMs.size() == 1 ? policyLatenciesMs.get(0) : policyLatenciesMs.get(i);
    }

    /** Sessions each started sandbox server holds: the largest level plus room for retries. */
    public int capacityPerServer() {
      int most = concurrencies.stream().mapToInt(Integer::intValue).max().orElse(1);
      return (int) Math.ceil(Math.max(most, WARM_UP_CONCURRENCY) * 1.25 / sandboxServers) + 8;
    }

    /** What the sandbox in this run is, for tables. */
    public String sandboxDescription() {
      return sandboxTarget == null
          ? "real, "
              + sandboxServers
              + " server(s) x "
              + capacityPerServer()
              + " sessions in a separate JVM"
          : "real, at " + sandboxTarget;
    }
  }

  /**
   * One concurrency level's figures.
   *
   * @param trajectories completions in the measured window
   * @param elapsedS length of the measured window
   * @param latencyMs per-trajectory latency the ideal is computed from
   * @param failedInWindow trajectories that ended without an answer in the window (infrastructure
   *     failures after retries); they are not counted as achieved
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
      double peakHeapMb,
      long failedInWindow) {}

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
    if (options.policyLatenciesMs().size() != 1
        && options.policyLatenciesMs().size() != options.concurrencies().size()) {
      throw new IllegalArgumentException(
          "give one policy latency, or one per concurrency level ("
              + options.concurrencies().size()
              + "), not "
              + options.policyLatenciesMs().size());
    }
    if (options.turns() < 2 || options.waves() < 1 || options.sandboxServers() < 1) {
      throw new IllegalArgumentException(
          "turns must be at least 2 (code, then the answer), waves and sandbox servers at least 1");
    }
    this.options = options;
  }

  /** Starts the sandboxes, runs a warm-up, a concurrency-1 baseline and every level. */
  public Result run() throws Exception {
    SandboxProcess started = null;
    Path root = null;
    String sandboxTarget = options.sandboxTarget();
    if (sandboxTarget == null) {
      root = Files.createTempDirectory("rolloutfarm-bench-sandbox-");
      // Per-session uids must be able to enter their folders below the work root.
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
      started =
          SandboxProcess.start(
              options.sandboxServers(),
              options.capacityPerServer(),
              root,
              List.of(),
              Duration.ofMinutes(3));
      sandboxTarget = started.targets();
    }
    try {
      // Warm-up: JIT the worker's paths and fork the sandboxes' first sessions; not measured.
      runLevel(sandboxTarget, WARM_UP_CONCURRENCY, 3, 20, Double.NaN);
      // Baseline: one trajectory at a time; what it takes beyond the policy is the sandbox's
      // (and the worker's own) share of a trajectory.
      Level baseline = runLevel(sandboxTarget, 1, 10, 20, Double.NaN);
      double sandboxMs = Math.max(0, baseline.elapsedS() * 1000 / 10 - options.turns() * 20.0);
      List<Level> levels = new ArrayList<>();
      for (int i = 0; i < options.concurrencies().size(); i++) {
        long policyMs = options.policyLatencyMs(i);
        levels.add(
            runLevel(
                sandboxTarget,
                options.concurrencies().get(i),
                options.waves(),
                policyMs,
                options.turns() * (double) policyMs + sandboxMs));
      }
      return new Result(options, sandboxMs, levels);
    } finally {
      if (started != null) {
        started.close();
        deleteTree(root);
      }
    }
  }

  private static void deleteTree(Path root) {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      // A temporary folder; the system cleans it eventually.
    }
  }

  /**
   * Runs concurrency {@code c} in steady state and measures {@code waves × c} completions.
   *
   * <p>The learner releases the first {@code c} tasks evenly over one ideal trajectory latency (a
   * cold start of {@code c} sessions at once would measure the sandbox's fork burst, not the steady
   * state); after that a finished trajectory's slot is refilled at once. The window runs from the
   * first completion to the {@code waves × c + 1}-th: throughout it {@code c} trajectories are in
   * flight, so the ideal rate is {@code c ÷ latency}. Then the worker stops and cancels the rest.
   *
   * @param idealLatencyMs per-trajectory latency of the ideal; NaN releases every task at once
   */
  private Level runLevel(
      String sandboxTarget, int c, int waves, long policyLatencyMs, double idealLatencyMs)
      throws Exception {
    int measured = waves * c;
    long rampNanos = Double.isNaN(idealLatencyMs) ? 0 : (long) (idealLatencyMs * 1e6 / c);
    ScheduledExecutorService timer = Executors.newScheduledThreadPool(2, named("bench-timer"));
    NioEventLoopGroup boss = new NioEventLoopGroup(1, named("bench-server-boss"));
    NioEventLoopGroup elg = new NioEventLoopGroup(2, named("bench-server-elg"));
    ExecutorService serverExecutor = Executors.newFixedThreadPool(2, named("bench-server-exec"));
    BenchLearnerService learner = new BenchLearnerService(task(), measured + 2 * c, c, rampNanos);
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
              .withIntervals(Duration.ofSeconds(10), Duration.ofMillis(50), Duration.ofSeconds(10));
      WorkerMetrics metrics = WorkerMetrics.inMemory();
      RolloutWorker worker =
          new RolloutWorker(config, learnerChannel, policy, sandboxes, metrics)
              .owning(policyChannel::shutdownNow, learnerChannel::shutdownNow, sandboxes);
      System.gc();
      HeapSampler heap = new HeapSampler();
      long t0 = System.nanoTime();
      learner.startClock(t0);
      worker.start();
      double budgetS =
          (Double.isNaN(idealLatencyMs) ? 60_000 : idealLatencyMs) / 1000 * (waves + 1) * 3 + 300;
      long deadline = t0 + (long) (budgetS * 1e9);
      // CPU is sampled when the window opens (first completion) and when it closes.
      while (learner.completed() < 1 && System.nanoTime() < deadline) {
        Thread.sleep(2);
      }
      long cpu0 = processCpuNanos();
      long bench0 = benchThreadCpuNanos();
      long failed0 = learner.failed();
      while (learner.completed() < measured + 1 && System.nanoTime() < deadline) {
        Thread.sleep(2);
      }
      long cpu1 = processCpuNanos();
      long bench1 = benchThreadCpuNanos();
      double peakHeap = heap.stop();
      // Trajectories that failed in the window (the sandbox or policy broke) are not counted.
      long completed = learner.completed();
      long failed = learner.failed() - failed0;
      worker.close();
      if (completed < measured + 1) {
        throw new IllegalStateException(
            "benchmark level "
                + c
                + " did not complete within "
                + (long) budgetS
                + " s: "
                + completed
                + " of "
                + (measured + 1)
                + " trajectories answered with every code turn run in a sandbox session; "
                + learner.failed()
                + " did not");
      }
      double windowS = (learner.completedAtNanos(measured) - learner.completedAtNanos(0)) / 1e9;
      double workerCpuMs = Math.max(0, (cpu1 - cpu0) - (bench1 - bench0)) / 1e6;
      double achieved = measured / windowS;
      double ideal = c / (idealLatencyMs / 1000.0);
      awaitSandboxesIdle(sandboxTarget, Duration.ofSeconds(60));
      return new Level(
          c,
          measured,
          windowS,
          idealLatencyMs,
          achieved,
          ideal,
          achieved / ideal,
          workerCpuMs / measured,
          peakHeap / (1024.0 * 1024.0),
          failed);
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

  /**
   * Waits until the sandbox servers hold no sessions: the stopped level's cancelled trajectories
   * close theirs, and the servers free a slot only once its processes and files are gone.
   */
  private static void awaitSandboxesIdle(String targets, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (String target : GrpcSandboxes.parseTargets(targets)) {
      ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
      try {
        while (System.nanoTime() < deadline) {
          int open =
              SandboxServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(10, TimeUnit.SECONDS)
                  .getStats(GetStatsRequest.getDefaultInstance())
                  .getOpenSessions();
          if (open == 0) {
            break;
          }
          Thread.sleep(100);
        }
      } finally {
        channel.shutdownNow();
      }
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

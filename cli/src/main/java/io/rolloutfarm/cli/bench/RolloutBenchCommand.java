package io.rolloutfarm.cli.bench;

import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.worker.bench.RolloutBenchmark;
import io.rolloutfarm.worker.bench.RolloutBenchmark.Level;
import io.rolloutfarm.worker.bench.RolloutBenchmark.Options;
import io.rolloutfarm.worker.bench.RolloutBenchmark.Result;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code farm bench rollout}: worker throughput against the ideal rate. */
@Command(
    name = "rollout",
    mixinStandardHelpOptions = true,
    description = {
      "Achieved trajectories/s of one worker JVM against the ideal (concurrency / per-trajectory",
      "latency) with a simulated fixed-latency policy and real sandbox sessions (one held per",
      "trajectory; every code turn executes there), at each concurrency level; worker CPU per",
      "trajectory and peak heap. About 8 MB of memory per concurrent session."
    })
public final class RolloutBenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON.")
  Path json;

  @Option(
      names = "--policy-latency-ms",
      split = ",",
      defaultValue = "10000,150000",
      description =
          "Simulated generation latency per turn: one value, or one per level (default:"
              + " ${DEFAULT-VALUE}: the sandboxes open 2-3 sessions/s at both levels).")
  List<Long> policyLatencyMs;

  @Option(
      names = "--turns",
      defaultValue = "3",
      description =
          "Generations per trajectory; all but the last run code (default: ${DEFAULT-VALUE}).")
  int turns;

  @Option(
      names = "--waves",
      defaultValue = "1",
      description =
          "Trajectories measured per level = waves x concurrency, in steady state (default:"
              + " ${DEFAULT-VALUE}).")
  int waves;

  @Option(
      names = "--concurrency",
      split = ",",
      defaultValue = "100,1000",
      description = "Concurrency levels (default: ${DEFAULT-VALUE}).")
  List<Integer> concurrencies;

  @Option(
      names = "--sandbox",
      paramLabel = "HOST:PORT",
      description =
          "Use these running sandbox server(s) (HOST:PORT[,...]) instead of starting some; they"
              + " need room for the largest level's sessions.")
  String sandbox;

  @Option(
      names = "--sandbox-servers",
      defaultValue = "4",
      description =
          "Sandbox servers to start in a separate JVM, sharing the sessions (default:"
              + " ${DEFAULT-VALUE}).")
  int sandboxServers;

  @Override
  public Integer call() throws Exception {
    if (json != null && !(concurrencies.contains(100) && concurrencies.contains(1000))) {
      throw new UserError("--json needs the levels 100 and 1000 in --concurrency");
    }
    Options options =
        new Options(policyLatencyMs, turns, waves, concurrencies, sandbox, sandboxServers);
    Result result;
    try {
      result = new RolloutBenchmark(options).run();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    BenchTable table =
        new BenchTable(
            String.format(
                Locale.ROOT,
                "Rollout worker throughput: policy simulated (%d turns), sandbox: %s",
                turns,
                options.sandboxDescription()),
            "concurrency",
            "policy ms/turn",
            "trajectories",
            "elapsed s",
            "latency ms",
            "achieved/s",
            "ideal/s",
            "efficiency",
            "worker CPU ms/traj",
            "peak heap MB",
            "failed");
    for (int i = 0; i < result.levels().size(); i++) {
      Level l = result.levels().get(i);
      table.row(
          l.concurrency(),
          options.policyLatencyMs(i),
          l.trajectories(),
          f(l.elapsedS(), 1),
          f(l.latencyMs(), 0),
          f(l.achievedPerS(), 1),
          f(l.idealPerS(), 1),
          f(100 * l.efficiency(), 1) + "%",
          f(l.workerCpuMsPerTrajectory(), 2),
          f(l.peakHeapMb(), 0),
          l.failedInWindow());
    }
    table
        .note(
            String.format(
                Locale.ROOT,
                "latency = %d turns x policy ms/turn + %.1f ms per trajectory beyond the policy"
                    + " (sandbox open, %d executions, close, and the worker itself: same-run"
                    + " baseline at concurrency 1); ideal = concurrency / latency.",
                turns,
                result.baselineSandboxMsPerTrajectory(),
                turns - 1))
        .note(
            "Steady state: the first <concurrency> tasks are released evenly over one latency,"
                + " then every finished slot is refilled; trajectories = completions measured from"
                + " the first one, elapsed = that window; CPU over the window. failed ="
                + " trajectories that ended without an answer in the window (sandbox or policy"
                + " failures after retries), not counted as achieved.")
        .note(
            "Learner and policy are simulated gRPC servers in this JVM (127.0.0.1 sockets); worker"
                + " CPU excludes their threads, peak heap is the whole JVM's. Each trajectory"
                + " holds a real Python sandbox session; the sandbox servers run in another JVM"
                + " (their CPU is not counted).");
    table.print(new java.io.PrintWriter(spec.commandLine().getOut(), true));
    if (json != null) {
      Level l100 = result.level(100);
      Level l1000 = result.level(1000);
      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("efficiency_100", round(l100.efficiency(), 4));
      figures.put("efficiency_1000", round(l1000.efficiency(), 4));
      figures.put("trajectories_per_s_1000", round(l1000.achievedPerS(), 2));
      figures.put("worker_cpu_ms_per_trajectory", round(l1000.workerCpuMsPerTrajectory(), 3));
      figures.put("worker_heap_mb_1000", round(l1000.peakHeapMb(), 1));
      BenchTable.writeJson(json, figures);
    }
    return 0;
  }

  private static String f(double v, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  private static double round(double v, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(v * scale) / scale;
  }
}

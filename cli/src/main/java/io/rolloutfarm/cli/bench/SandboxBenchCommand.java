package io.rolloutfarm.cli.bench;

import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.sandbox.SandboxBenchmark;
import io.rolloutfarm.sandbox.SandboxBenchmark.Options;
import io.rolloutfarm.sandbox.SandboxBenchmark.Result;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code farm bench sandbox}: session speed against cold and per-call Python processes. */
@Command(
    name = "sandbox",
    mixinStandardHelpOptions = true,
    description = {
      "Starts a sandbox server on loopback and measures, side by side in one run:",
      "(a) warm Execute round trips, (b) OpenSession with a 1-megapixel PNG",
      "against a cold python3 that imports the same libraries and loads the image,",
      "(c) Execute against a fresh python3 per call, (d) throughput of concurrent",
      "sessions."
    })
public final class SandboxBenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON.")
  Path json;

  @Option(
      names = "--exec-calls",
      defaultValue = "2000",
      description = "Timed executions for (a) (default: ${DEFAULT-VALUE}).")
  int execCalls;

  @Option(
      names = "--open-calls",
      defaultValue = "20",
      description = "Timed opens for (b) (default: ${DEFAULT-VALUE}).")
  int openCalls;

  @Option(
      names = "--cold-runs",
      defaultValue = "5",
      description = "Cold interpreter runs for baseline 1 (default: ${DEFAULT-VALUE}).")
  int coldRuns;

  @Option(
      names = "--fresh-runs",
      defaultValue = "20",
      description = "Fresh interpreter runs for baseline 2 (default: ${DEFAULT-VALUE}).")
  int freshRuns;

  @Option(
      names = "--concurrency",
      defaultValue = "64",
      description = "Sessions for (d) (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--seconds",
      defaultValue = "5",
      description = "Duration of (d) (default: ${DEFAULT-VALUE}).")
  double seconds;

  @Override
  public Integer call() throws Exception {
    Options options;
    try {
      options = new Options(execCalls, openCalls, coldRuns, freshRuns, concurrency, seconds);
    } catch (IllegalArgumentException e) {
      throw new UserError("farm bench sandbox: " + e.getMessage());
    }
    Result r = new SandboxBenchmark(options).run();
    BenchTable table =
        new BenchTable(
            "Sandbox sessions vs. Python processes (same run; medians unless noted)",
            "#",
            "what",
            "sandbox",
            "baseline",
            "ratio",
            "target");
    table
        .row(
            "a",
            "warm Execute round trip, trivial code",
            "p50 " + ms(r.execP50Ms()) + ", p99 " + ms(r.execP99Ms()),
            "-",
            "-",
            "p50 <= 1 ms, p99 <= 5 ms")
        .row(
            "b",
            "OpenSession with a 1-megapixel PNG",
            ms(r.openP50Ms()),
            "cold python3 + imports + image: " + ms(r.coldStartP50Ms()),
            x(r.openSpeedupVsCold()),
            ">= 20x")
        .row(
            "c",
            "Execute, trivial code",
            ms(r.execP50Ms()),
            "fresh python3 -c per call: " + ms(r.freshProcessP50Ms()),
            x(r.execSpeedupVsFreshProcess()),
            ">= 50x")
        .row(
            "d",
            r.concurrency() + " concurrent sessions, trivial code",
            String.format(Locale.ROOT, "%.0f execs/s", r.throughputExecsPerS()),
            String.format(Locale.ROOT, "%.3f CPU-ms/exec", r.cpuMsPerExec()),
            "-",
            "report")
        .note(
            "(a) server-side share of the round trip (p50): "
                + ms(r.execServerP50Ms())
                + "; the rest is gRPC over loopback and the client. (b) server-side share: "
                + ms(r.openServerP50Ms())
                + " (warm runtime handed the PNG, which it decodes).")
        .note(
            "CPU-ms/exec counts the whole JVM (server and the benchmark's own gRPC client) plus"
                + " the session processes; "
                + r.throughputExecs()
                + " executions in "
                + options.seconds()
                + " s.")
        .note("Session protections: " + r.protections().describe())
        .note(
            "Machine: "
                + Runtime.getRuntime().availableProcessors()
                + " CPUs as seen by the JVM; other load on it shows in the figures.");
    table.print(new PrintWriter(spec.commandLine().getOut(), true));
    if (json != null) {
      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("exec_p50_ms", round(r.execP50Ms(), 4));
      figures.put("exec_p99_ms", round(r.execP99Ms(), 4));
      figures.put("open_p50_ms", round(r.openP50Ms(), 3));
      figures.put("open_speedup_vs_cold", round(r.openSpeedupVsCold(), 2));
      figures.put("exec_speedup_vs_fresh_process", round(r.execSpeedupVsFreshProcess(), 2));
      figures.put("throughput_execs_per_s", round(r.throughputExecsPerS(), 1));
      figures.put("cpu_ms_per_exec", round(r.cpuMsPerExec(), 4));
      figures.put("cold_start_p50_ms", round(r.coldStartP50Ms(), 2));
      figures.put("fresh_process_p50_ms", round(r.freshProcessP50Ms(), 2));
      figures.put("concurrency", r.concurrency());
      BenchTable.writeJson(json, figures);
    }
    return 0;
  }

  private static String ms(double v) {
    return String.format(Locale.ROOT, v < 10 ? "%.3f ms" : "%.1f ms", v);
  }

  private static String x(double v) {
    return String.format(Locale.ROOT, "%.1fx", v);
  }

  private static double round(double v, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(v * scale) / scale;
  }
}

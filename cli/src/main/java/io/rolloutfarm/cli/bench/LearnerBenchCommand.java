package io.rolloutfarm.cli.bench;

import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.learner.bench.EngineBenchmark;
import io.rolloutfarm.learner.bench.OfrBenchmark;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code farm bench learner}: engine throughput and the cost of OFR selection. */
@Command(
    name = "learner",
    mixinStandardHelpOptions = true,
    description = {
      "Learner throughput: engine training and sampling, OFR selection.",
      "Engine train-step and sample tokens/s (batched generation with a KV cache",
      "against the same requests one at a time and against the batch without a",
      "KV cache), OFR selection cost per 1,000 groups (against a naive full sort",
      "that recomputes reward spreads), the device and, on CUDA, model FLOP",
      "utilisation. Medians of --repeats."
    })
public final class LearnerBenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON.")
  Path json;

  @Option(
      names = "--model",
      defaultValue = "builtin",
      description = "Engine model: builtin[:JSON] or a weights path (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(
      names = "--device",
      defaultValue = "auto",
      description = "auto (CUDA when present), cpu or cuda (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "Engine CPU threads; 0 = every core (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--batch",
      defaultValue = "16",
      description = "Requests per sample call and sequences per train step (default: 16).")
  int batch;

  @Option(
      names = "--prompt-tokens",
      defaultValue = "256",
      description = "Prompt length of each sample request (default: ${DEFAULT-VALUE}).")
  int promptTokens;

  @Option(
      names = "--new-tokens",
      defaultValue = "64",
      description = "Tokens generated per request (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(
      names = "--train-tokens",
      defaultValue = "384",
      description = "Tokens per training sequence (default: ${DEFAULT-VALUE}).")
  int trainTokens;

  @Option(
      names = "--groups",
      defaultValue = "1000",
      description = "Groups in one OFR pass (default: ${DEFAULT-VALUE}).")
  int groups;

  @Option(
      names = "--group-size",
      defaultValue = "8",
      description = "Trajectories per group in the OFR pass (default: ${DEFAULT-VALUE}).")
  int groupSize;

  @Option(
      names = "--ofr-warm-up-ms",
      defaultValue = "2000",
      description = "Untimed OFR passes first, for the JIT (default: ${DEFAULT-VALUE}).")
  long ofrWarmUpMs;

  @Option(
      names = "--repeats",
      defaultValue = "5",
      description = "Timed repetitions of each figure (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--timeout-seconds",
      defaultValue = "1800",
      description = "Limit for the engine measurements (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    if (batch < 1 || promptTokens < 2 || newTokens < 1 || trainTokens < 4 || repeats < 1) {
      throw new UserError(
          "--batch, --new-tokens and --repeats must be at least 1, --prompt-tokens at least 2,"
              + " --train-tokens at least 4");
    }
    OfrBenchmark.Result ofr;
    try {
      ofr =
          new OfrBenchmark(
                  new OfrBenchmark.Options(groups, groupSize, 256, repeats, 7, ofrWarmUpMs))
              .run();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    Map<String, Object> engine;
    try {
      engine =
          new EngineBenchmark(
                  new EngineBenchmark.Options(
                      model,
                      device,
                      threads,
                      batch,
                      promptTokens,
                      newTokens,
                      trainTokens,
                      repeats,
                      Duration.ofSeconds(timeoutSeconds)))
              .run();
    } catch (IOException e) {
      throw new UserError(e.getMessage());
    }
    double train = number(engine, "train_tokens_per_s");
    double sample = number(engine, "sample_tokens_per_s");
    double unbatched = number(engine, "sample_unbatched_tokens_per_s");
    double noCache = number(engine, "sample_no_cache_tokens_per_s");
    String deviceName = String.valueOf(engine.get("device"));
    Object mfu = engine.get("mfu");

    BenchTable table =
        new BenchTable(
            String.format(
                Locale.ROOT,
                "Learner: engine %s (%,d parameters, %s) on %s, %s threads; medians of %d",
                engine.get("model"),
                ((Number) engine.get("parameter_count")).longValue(),
                engine.get("dtype"),
                deviceName,
                engine.get("threads"),
                repeats),
            "figure",
            "measured",
            "baseline",
            "baseline value",
            "ratio");
    table.row("train step tokens/s", f(train, 1), "-", "-", "-");
    table.row(
        "sample tokens/s (batch " + batch + ")",
        f(sample, 1),
        "same requests one at a time",
        f(unbatched, 1),
        f(sample / unbatched, 2) + "x");
    table.row(
        "sample tokens/s (batch " + batch + ")",
        f(sample, 1),
        "same batch without KV cache",
        f(noCache, 1),
        f(sample / noCache, 2) + "x");
    table.row(
        "OFR ms per 1,000 groups",
        f(ofr.ofrMsPer1000Groups(), 4),
        "naive full sort",
        f(ofr.naiveMsPer1000Groups(), 4),
        f(ofr.speedup(), 2) + "x");
    if (mfu instanceof Number m) {
      table.row("model FLOP utilisation", f(100 * m.doubleValue(), 2) + "%", "-", "-", "-");
    }
    table.note(
        String.format(
            Locale.ROOT,
            "sampling: %d-token prompts, %d new tokens each, KV cache (the no-cache baseline"
                + " generates %s tokens, which flatters it); training: %d-token sequences (half"
                + " loss tokens), GRPO step with AdamW.",
            promptTokens,
            newTokens,
            engine.get("no_cache_tokens"),
            trainTokens));
    table.note(
        String.format(
            Locale.ROOT,
            "OFR: %d groups of %d, top %d kept by reward std; ratio = baseline time / OFR time.",
            groups,
            groupSize,
            ofr.kept()));
    if (!(mfu instanceof Number)) {
      table.note(
          "device "
              + deviceName
              + ": model FLOP utilisation is reported on CUDA only"
              + (deviceName.equals("cpu") ? " (no GPU was used for these figures)." : "."));
    }
    table.print(new PrintWriter(spec.commandLine().getOut(), true));
    if (json != null) {
      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("train_tokens_per_s", round(train, 2));
      figures.put("sample_tokens_per_s", round(sample, 2));
      figures.put("ofr_ms_per_1000_groups", round(ofr.ofrMsPer1000Groups(), 5));
      figures.put("device", deviceName);
      if (mfu instanceof Number m) {
        figures.put("mfu", round(m.doubleValue(), 5));
      }
      BenchTable.writeJson(json, figures);
    }
    return 0;
  }

  private static double number(Map<String, Object> figures, String key) {
    if (!(figures.get(key) instanceof Number n)) {
      throw new UserError("the engine benchmark reported no " + key + ": " + figures);
    }
    return n.doubleValue();
  }

  private static String f(double v, int decimals) {
    return String.format(Locale.ROOT, "%,." + decimals + "f", v);
  }

  private static double round(double v, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(v * scale) / scale;
  }
}

package io.rolloutfarm.cli.local;

import io.rolloutfarm.api.v1alpha1.ConditionTypes;
import io.rolloutfarm.learner.metrics.StepMetrics;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * What a local run shows while it runs: rows like {@code kubectl get tr -w} (NAME READY STEP REWARD
 * SANDBOXES AGE) whenever they change, a line for every condition transition, and a live progress
 * bar with the training figures. Without a terminal (piped output, CI) the bar is replaced by one
 * plain line per RL step.
 */
final class RunConsole implements AutoCloseable {
  private static final String ROW = "%-22s %-6s %-10s %-8s %-10s %s%n";

  private final PrintStream out;
  private final String name;
  private final long totalSteps;
  private final long startNanos = System.nanoTime();
  private final Map<String, LocalConditions.Condition> conditions = new LinkedHashMap<>();
  private final ProgressBar bar;
  private final StepTimes stepTimes = new StepTimes();
  private String lastRow = "";
  private String figures = "starting";

  RunConsole(PrintStream out, String name, long totalSteps, long startStep, boolean interactive) {
    this.out = out;
    this.name = name;
    this.totalSteps = totalSteps;
    this.bar =
        interactive
            ? new ProgressBarBuilder()
                .setTaskName("step")
                .setInitialMax(totalSteps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500)
                .startsFrom(startStep, Duration.ZERO)
                .setEtaFunction(s -> eta(s.getCurrent()))
                .continuousUpdate()
                .build()
            : null;
    if (bar != null) {
      bar.setExtraMessage(" " + figures);
    }
    print(String.format(ROW, "NAME", "READY", "STEP", "REWARD", "SANDBOXES", "AGE"));
  }

  /** Shows the current status: a new row when it changed and the conditions that moved. */
  synchronized void status(LocalConditions.Snapshot s) {
    for (LocalConditions.Condition c : s.conditions()) {
      LocalConditions.Condition before = conditions.put(c.type(), c);
      if (before == null ? c.status() : before.status() != c.status()) {
        print(
            String.format(
                "  %s=%s  %s: %s%n",
                c.type(), c.status() ? "True" : "False", c.reason(), c.message()));
      }
    }
    String reward = s.reward() == null ? "-" : String.format(Locale.ROOT, "%.3f", s.reward());
    String row =
        String.format(
            ROW,
            name,
            s.condition(ConditionTypes.READY) ? "True" : "False",
            s.step() + "/" + totalSteps,
            reward,
            s.sandboxesReady() + "/" + s.sandboxesTotal(),
            "%s");
    if (!row.equals(lastRow)) {
      lastRow = row;
      print(String.format(row, age()));
    }
  }

  /** Shows one warm-up or RL step (or evaluation) in the bar. */
  synchronized void step(StepMetrics m) {
    switch (m.phase()) {
      case "warmup" -> {
        figures =
            String.format(
                Locale.ROOT, "warm-up step %d  loss %.3f", m.step(), m.values().get("loss"));
        if (bar == null && m.step() % 20 == 0) {
          print("  " + figures + System.lineSeparator());
        }
      }
      case "eval" -> {
        Double acc = m.values().get(RunReport.HELDOUT_ACCURACY);
        if (acc != null) {
          print(
              String.format(
                  Locale.ROOT,
                  "  held-out accuracy %.3f at step %d (%s)%n",
                  acc,
                  m.step(),
                  families(m.values())));
        }
      }
      default -> {
        stepTimes.add(m.values().getOrDefault("step_seconds", 0.0));
        figures = LocalMetrics.describe(m.values());
        if (bar != null) {
          bar.stepTo(m.step());
        } else {
          print(String.format("  step %d/%d  %s%n", m.step(), totalSteps, figures));
        }
      }
    }
    if (bar != null) {
      bar.setExtraMessage(" " + figures);
    }
  }

  /** Prints a line above the bar. */
  synchronized void note(String line) {
    print(line + System.lineSeparator());
  }

  private static String families(Map<String, Double> values) {
    StringBuilder b = new StringBuilder();
    values.forEach(
        (k, v) -> {
          if (k.startsWith("heldout_accuracy_")) {
            if (!b.isEmpty()) {
              b.append(", ");
            }
            b.append(k.substring("heldout_accuracy_".length()))
                .append(String.format(Locale.ROOT, " %.2f", v));
          }
        });
    return b.toString();
  }

  private Optional<Duration> eta(long current) {
    double perStep = stepTimes.median();
    if (perStep <= 0) {
      return Optional.empty();
    }
    return Optional.of(Duration.ofMillis((long) (perStep * 1000 * (totalSteps - current))));
  }

  private String age() {
    long s = (System.nanoTime() - startNanos) / 1_000_000_000L;
    return s < 120 ? s + "s" : (s / 60) + "m" + (s % 60) + "s";
  }

  private void print(String text) {
    if (bar != null) {
      // Clear the bar's line on the terminal first; it redraws itself below.
      System.err.print("\r\033[K");
      System.err.flush();
    }
    out.print(text);
    out.flush();
  }

  @Override
  public synchronized void close() {
    if (bar != null) {
      bar.close();
    }
  }

  /** Durations of the last RL steps, for the ETA. */
  private static final class StepTimes {
    private final double[] last = new double[10];
    private int n;

    void add(double seconds) {
      if (seconds > 0) {
        last[n % last.length] = seconds;
        n++;
      }
    }

    double median() {
      int k = Math.min(n, last.length);
      if (k == 0) {
        return 0;
      }
      double[] copy = java.util.Arrays.copyOf(last, k);
      java.util.Arrays.sort(copy);
      return copy[k / 2];
    }
  }
}

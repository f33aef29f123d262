package io.rolloutfarm.cli.local;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The figures a run is judged by. Accuracies are held-out, 0–1; the warm-up one is the evaluation
 * at step 0, the final one the last evaluation. Tool calls per trajectory are means over the first
 * and the last 10 % of RL steps (at least one step each).
 */
public record Summary(
    Double warmupAccuracy,
    Double finalAccuracy,
    Double toolCallsFirst,
    Double toolCallsLast,
    long steps,
    double wallSeconds) {

  static Summary of(List<RunReport.StepRow> rows, double wallSeconds) {
    List<RunReport.StepRow> evals =
        rows.stream().filter(r -> r.metrics().containsKey(RunReport.HELDOUT_ACCURACY)).toList();
    Double warmup =
        evals.stream()
            .filter(r -> r.step() == 0)
            .map(r -> r.metrics().get(RunReport.HELDOUT_ACCURACY))
            .findFirst()
            .orElse(null);
    Double last =
        evals.isEmpty()
            ? null
            : evals.get(evals.size() - 1).metrics().get(RunReport.HELDOUT_ACCURACY);
    List<Double> tools =
        rows.stream()
            .filter(r -> r.step() > 0 && r.metrics().containsKey(RunReport.TOOL_CALLS))
            .map(r -> r.metrics().get(RunReport.TOOL_CALLS))
            .toList();
    int tenth = Math.max(1, (int) Math.round(tools.size() * 0.1));
    long steps = rows.stream().mapToLong(RunReport.StepRow::step).max().orElse(0);
    return new Summary(
        warmup,
        last,
        tools.isEmpty() ? null : mean(tools.subList(0, Math.min(tenth, tools.size()))),
        tools.isEmpty()
            ? null
            : mean(tools.subList(Math.max(0, tools.size() - tenth), tools.size())),
        steps,
        wallSeconds);
  }

  private static double mean(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  /** The summary.json keys. */
  public Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("warmup_accuracy", warmupAccuracy);
    m.put("final_accuracy", finalAccuracy);
    m.put("tool_calls_per_trajectory_first", toolCallsFirst);
    m.put("tool_calls_per_trajectory_last", toolCallsLast);
    m.put("steps", steps);
    m.put("wall_seconds", wallSeconds);
    return m;
  }
}

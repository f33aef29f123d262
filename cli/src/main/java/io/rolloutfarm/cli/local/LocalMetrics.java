package io.rolloutfarm.cli.local;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The report's view of one RL step: the learner's figures plus the rates a person watches. */
final class LocalMetrics {
  /** Fraction of the step's groups that the filters dropped, whatever the reason. */
  static final String FILTERED = "filter_ratio_total";

  private LocalMetrics() {}

  /** The learner's step metrics with trajectories/s and the total filter ratio added. */
  static Map<String, Double> forReport(Map<String, Double> step) {
    Map<String, Double> m = new LinkedHashMap<>(step);
    double seconds = step.getOrDefault("step_seconds", 0.0);
    double trajectories = step.getOrDefault("trajectories", 0.0);
    m.put(RunReport.TRAJECTORIES_PER_S, seconds > 0 ? trajectories / seconds : 0.0);
    m.put(FILTERED, filtered(step));
    return m;
  }

  static double filtered(Map<String, Double> step) {
    double total = 0;
    for (Map.Entry<String, Double> e : step.entrySet()) {
      if (e.getKey().startsWith(RunReport.FILTER_RATIO_PREFIX) && !e.getKey().equals(FILTERED)) {
        total += e.getValue();
      }
    }
    return total;
  }

  /** One line for the progress bar and logs. */
  static String describe(Map<String, Double> step) {
    Map<String, Double> m = forReport(step);
    return String.format(
        Locale.ROOT,
        "reward %.3f  acc %.2f  tools/traj %.2f  filtered %.0f%%  %.1f traj/s",
        m.getOrDefault(RunReport.REWARD_MEAN, 0.0),
        m.getOrDefault(RunReport.ACCURACY, 0.0),
        m.getOrDefault(RunReport.TOOL_CALLS, 0.0),
        100 * m.get(FILTERED),
        m.get(RunReport.TRAJECTORIES_PER_S));
  }
}

package io.rolloutfarm.learner.metrics;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The figures of one warm-up or RL step, in a stable order (what the local farm prints and writes
 * to its metrics JSONL/CSV). Names are snake_case, e.g. {@code reward_mean}, {@code accuracy},
 * {@code tool_calls_per_trajectory}, {@code groups_filtered_zero_reward_std}, {@code loss}.
 *
 * @param phase {@code warmup} or {@code train}
 * @param step the step number (1-based within its phase)
 */
public record StepMetrics(
    String phase, long step, long policyVersion, Instant time, Map<String, Double> values) {
  public StepMetrics {
    values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  public double get(String name) {
    Double v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no metric '" + name + "' (have " + values.keySet() + ")");
    }
    return v;
  }
}

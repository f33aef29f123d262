package io.rolloutfarm.autoscaler;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a pool's load into a replica count.
 *
 * <ul>
 *   <li>The recommendation is {@code ceil(demand / (sessionsPerPod * targetUtilization))}, where
 *       demand counts slots in use on ready pods plus requests waiting for a slot. Pods that are
 *       still starting add no demand, so a pool never asks for more pods just because some are
 *       pending: it keeps waiting for the ones it has asked for.
 *   <li>Within the tolerance band around the target nothing changes.
 *   <li>Scale-up acts at once, at most by {@code maxStepFactor}.
 *   <li>Scale-down uses the largest recommendation over the window, so a short dip (or noise) never
 *       removes pods that the next burst needs; it shrinks at most by {@code maxStepFactor}.
 *   <li>The result stays within min..max.
 * </ul>
 */
public final class ScalingEvaluator {
  private final Clock clock;
  private final Map<String, RecommendationHistory> histories = new ConcurrentHashMap<>();

  public ScalingEvaluator(Clock clock) {
    this.clock = clock;
  }

  public ScalingDecision evaluate(String pool, PoolMetrics metrics, AutoscalerSettings s) {
    int current = metrics.currentReplicas();
    double slotsPerPod = s.sessionsPerPod() * s.targetUtilization();
    int demand = metrics.demand();
    double utilization =
        current == 0 ? (demand > 0 ? 1.0 : 0.0) : demand / (double) (current * s.sessionsPerPod());

    int raw = (int) Math.ceil(demand / slotsPerPod);
    // No-action band: close enough to the target keeps the current size.
    if (current > 0 && Math.abs(demand / (current * slotsPerPod) - 1.0) <= s.tolerance()) {
      raw = current;
    }
    RecommendationHistory history =
        histories.computeIfAbsent(pool, k -> new RecommendationHistory());
    history.add(clock.instant(), raw, s.scaleDownWindow());

    if (current < s.minReplicas() || current > s.maxReplicas()) {
      return new ScalingDecision(
          pool, current, s.clamp(current), raw, utilization, ScalingDecision.Reason.OutOfBounds);
    }
    if (raw > current) {
      int step = Math.max(current + 1, (int) Math.ceil(current * s.maxStepFactor()));
      int target = s.clamp(Math.min(raw, step));
      return new ScalingDecision(
          pool,
          current,
          target,
          raw,
          utilization,
          target == current ? ScalingDecision.Reason.AtBound : ScalingDecision.Reason.ScaleUp);
    }
    if (raw < current) {
      int stabilized = history.max();
      if (stabilized >= current) {
        return new ScalingDecision(
            pool, current, current, raw, utilization, ScalingDecision.Reason.ScaleDownStabilizing);
      }
      int step = Math.min(current - 1, (int) Math.floor(current / s.maxStepFactor()));
      int target = s.clamp(Math.max(stabilized, step));
      return new ScalingDecision(
          pool,
          current,
          target,
          raw,
          utilization,
          target == current ? ScalingDecision.Reason.AtBound : ScalingDecision.Reason.ScaleDown);
    }
    return new ScalingDecision(
        pool, current, current, raw, utilization, ScalingDecision.Reason.WithinTolerance);
  }

  /** Drops what is remembered about a pool that no longer exists. */
  public void forget(String pool) {
    histories.remove(pool);
  }
}

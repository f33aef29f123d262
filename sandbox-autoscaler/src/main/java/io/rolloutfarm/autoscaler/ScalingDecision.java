package io.rolloutfarm.autoscaler;

/**
 * One evaluation of one pool.
 *
 * @param pool the pool's id (e.g. namespace/name)
 * @param currentReplicas replicas before the decision
 * @param targetReplicas replicas after it (equal to current when nothing changes)
 * @param recommendedReplicas what the load alone asks for, before stabilisation, steps and bounds
 * @param utilization slots in use over slots offered by the current replicas
 * @param reason why
 */
public record ScalingDecision(
    String pool,
    int currentReplicas,
    int targetReplicas,
    int recommendedReplicas,
    double utilization,
    Reason reason) {

  /** Why a decision came out as it did. */
  public enum Reason {
    /** Load is within the no-action band around the target. */
    WithinTolerance,
    /** Load is above the target: scaled up right away. */
    ScaleUp,
    /** Load stayed below the target for the whole scale-down window. */
    ScaleDown,
    /** Load is below the target, but a recent recommendation still needs the pods. */
    ScaleDownStabilizing,
    /** The replicas were outside min..max and were brought back in. */
    OutOfBounds,
    /** The recommendation is beyond min..max; held at the bound. */
    AtBound
  }

  public boolean changesReplicas() {
    return targetReplicas != currentReplicas;
  }

  /** One line for events and logs. */
  public String describe() {
    String load =
        String.format(
            "utilisation %.0f%%, recommendation %d", utilization * 100, recommendedReplicas);
    return changesReplicas()
        ? String.format(
            "%s: %d -> %d replicas (%s, %s)", pool, currentReplicas, targetReplicas, reason, load)
        : String.format("%s: stays at %d replicas (%s, %s)", pool, currentReplicas, reason, load);
  }
}

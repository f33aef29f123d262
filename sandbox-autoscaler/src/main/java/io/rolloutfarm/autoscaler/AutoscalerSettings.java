package io.rolloutfarm.autoscaler;

import java.time.Duration;

/**
 * How one pool scales.
 *
 * @param minReplicas fewest pods
 * @param maxReplicas most pods
 * @param sessionsPerPod session slots one pod offers
 * @param targetUtilization fraction of slots in use that the pool aims for, in (0, 1]
 * @param tolerance no-action band: no change while demand is within this relative distance of the
 *     target (0.1 = ±10 %)
 * @param scaleDownWindow scale-down uses the largest recommendation seen over this window
 * @param maxStepFactor one decision grows the pool at most this many times (and shrinks it at most
 *     by the same factor); always at least one pod
 * @param advisory compute decisions and report them, but do not act
 */
public record AutoscalerSettings(
    int minReplicas,
    int maxReplicas,
    int sessionsPerPod,
    double targetUtilization,
    double tolerance,
    Duration scaleDownWindow,
    double maxStepFactor,
    boolean advisory) {

  public AutoscalerSettings {
    if (minReplicas < 0 || maxReplicas < Math.max(1, minReplicas)) {
      throw new IllegalArgumentException(
          "need 0 <= minReplicas <= maxReplicas and maxReplicas >= 1, got "
              + minReplicas
              + ".."
              + maxReplicas);
    }
    if (sessionsPerPod < 1) {
      throw new IllegalArgumentException("sessionsPerPod must be >= 1, got " + sessionsPerPod);
    }
    if (!(targetUtilization > 0 && targetUtilization <= 1)) {
      throw new IllegalArgumentException(
          "targetUtilization must be in (0, 1], got " + targetUtilization);
    }
    if (!(tolerance >= 0 && tolerance < 1)) {
      throw new IllegalArgumentException("tolerance must be in [0, 1), got " + tolerance);
    }
    if (scaleDownWindow.isNegative()) {
      throw new IllegalArgumentException("scaleDownWindow must not be negative");
    }
    if (!(maxStepFactor > 1)) {
      throw new IllegalArgumentException("maxStepFactor must be > 1, got " + maxStepFactor);
    }
  }

  /** Defaults: ±10 % band, five-minute scale-down window, at most doubling per decision. */
  public static AutoscalerSettings of(
      int minReplicas, int maxReplicas, int sessionsPerPod, double targetUtilization) {
    return new AutoscalerSettings(
        minReplicas,
        maxReplicas,
        sessionsPerPod,
        targetUtilization,
        0.1,
        Duration.ofMinutes(5),
        2.0,
        false);
  }

  public AutoscalerSettings withAdvisory(boolean value) {
    return new AutoscalerSettings(
        minReplicas,
        maxReplicas,
        sessionsPerPod,
        targetUtilization,
        tolerance,
        scaleDownWindow,
        maxStepFactor,
        value);
  }

  public AutoscalerSettings withScaleDownWindow(Duration value) {
    return new AutoscalerSettings(
        minReplicas,
        maxReplicas,
        sessionsPerPod,
        targetUtilization,
        tolerance,
        value,
        maxStepFactor,
        advisory);
  }

  public int clamp(int replicas) {
    return Math.max(minReplicas, Math.min(maxReplicas, replicas));
  }
}

package io.rolloutfarm.learner.train;

import java.util.List;

/**
 * GRPO advantages of one group: each reward minus the group mean (PyVision-RL's default, which
 * avoids the fluctuation that std division causes), optionally divided by the group's population
 * standard deviation plus {@link #EPSILON}.
 */
public final class Advantages {
  /** Added to the standard deviation so that near-constant groups do not explode. */
  public static final double EPSILON = 1e-6;

  private Advantages() {}

  public static double[] compute(List<Double> rewards, boolean normalizeByStd) {
    int n = rewards.size();
    double[] out = new double[n];
    if (n == 0 || rewards.stream().distinct().count() == 1) {
      return out; // no spread, no signal: exactly 0 rather than rounding noise
    }
    double mean = 0;
    for (double r : rewards) {
      mean += r;
    }
    mean /= n;
    double std = 0;
    if (normalizeByStd) {
      for (double r : rewards) {
        std += (r - mean) * (r - mean);
      }
      std = Math.sqrt(std / n);
    }
    for (int i = 0; i < n; i++) {
      double centred = rewards.get(i) - mean;
      out[i] = normalizeByStd ? centred / (std + EPSILON) : centred;
    }
    return out;
  }
}

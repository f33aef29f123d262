package io.rolloutfarm.learner.ofr;

import io.rolloutfarm.proto.v1.Trajectory;
import java.util.List;

/** Reward mean and population standard deviation of a set of trajectories. */
public record RewardStats(double mean, double std) {

  public static RewardStats of(List<Trajectory> trajectories) {
    int n = trajectories.size();
    if (n == 0) {
      return new RewardStats(0, 0);
    }
    double sum = 0;
    for (Trajectory t : trajectories) {
      sum += t.getReward().getTotal();
    }
    double mean = sum / n;
    double squares = 0;
    for (Trajectory t : trajectories) {
      double d = t.getReward().getTotal() - mean;
      squares += d * d;
    }
    return new RewardStats(mean, Math.sqrt(squares / n));
  }
}

package io.rolloutfarm.learner.ofr;

import io.rolloutfarm.proto.v1.Trajectory;
import java.util.List;

/**
 * The rollouts of one prompt admission, complete: every member arrived, or the group was masked
 * after an infrastructure failure (then {@code trajectories} holds whatever had arrived and is
 * never trained on).
 *
 * @param key unique id of the admission ({@code promptId#sequence}); one prompt may be admitted
 *     several times when the dataset is smaller than a step
 * @param sequence admission order, used to break ranking ties deterministically
 */
public record Group(
    String key, String promptId, long sequence, List<Trajectory> trajectories, boolean masked) {

  public Group {
    trajectories = List.copyOf(trajectories);
  }

  /** Oldest policy version among the members, the one the staleness bound applies to. */
  public long oldestPolicyVersion() {
    return trajectories.stream().mapToLong(Trajectory::getPolicyVersion).min().orElse(0);
  }
}

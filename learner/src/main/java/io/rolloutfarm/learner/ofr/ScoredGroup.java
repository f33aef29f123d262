package io.rolloutfarm.learner.ofr;

import io.rolloutfarm.proto.v1.Trajectory;
import java.util.List;

/** A group that passed the filters, with the trajectories that survived and their statistics. */
public record ScoredGroup(Group group, List<Trajectory> valid, RewardStats stats) {
  public ScoredGroup {
    valid = List.copyOf(valid);
  }
}

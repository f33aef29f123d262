package io.rolloutfarm.learner.testing;

import io.rolloutfarm.learner.ofr.Group;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.RewardBreakdown;
import io.rolloutfarm.proto.v1.Trajectory;
import java.util.ArrayList;
import java.util.List;

/** Hand-made trajectories and groups for tests. */
public final class Trajectories {
  private Trajectories() {}

  /** A well-formed trajectory: 3 prompt tokens, 3 generated tokens. */
  public static Trajectory scored(String promptId, int index, double reward, long version) {
    return Trajectory.newBuilder()
        .setTrajectoryId(promptId + "-" + index)
        .setPromptId(promptId)
        .setGroupIndex(index)
        .setPolicyVersion(version)
        .addAllTokenIds(List.of(10, 11, 12, 20 + index, 21, 22))
        .addAllLossMask(List.of(0, 0, 0, 1, 1, 1))
        .addAllLogprobs(List.of(0f, 0f, 0f, -0.5f, -0.5f, -0.5f))
        .setPromptTokens(3)
        .setEndReason(EndReason.END_REASON_DONE)
        .setToolCalls(1)
        .setReward(RewardBreakdown.newBuilder().setTotal(reward).setAccuracy(reward >= 1 ? 1 : 0))
        .build();
  }

  public static Trajectory withEnd(Trajectory t, EndReason reason) {
    return t.toBuilder().setEndReason(reason).build();
  }

  public static Trajectory infraFailure(String promptId, int index) {
    return Trajectory.newBuilder()
        .setTrajectoryId(promptId + "-" + index + "-failed")
        .setPromptId(promptId)
        .setGroupIndex(index)
        .setEndReason(EndReason.END_REASON_SANDBOX_FAILURE)
        .setFailureMessage("sandbox pod died")
        .build();
  }

  /** A complete group with the given rewards, all from {@code version}. */
  public static Group group(String promptId, long sequence, long version, double... rewards) {
    List<Trajectory> ts = new ArrayList<>();
    for (int i = 0; i < rewards.length; i++) {
      ts.add(scored(promptId, i, rewards[i], version));
    }
    return new Group(promptId + "#" + sequence, promptId, sequence, ts, false);
  }
}

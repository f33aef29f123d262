package io.rolloutfarm.learner.dispatch;

import io.rolloutfarm.learner.data.PromptSampler;
import io.rolloutfarm.proto.v1.Trajectory;
import java.util.List;

/**
 * What a checkpoint keeps of the dispatcher: where the data stands and every trajectory accepted so
 * far that no step has consumed. Leases are not kept: after a restart the missing members of open
 * groups are leased anew.
 */
public record DispatcherState(
    PromptSampler.Cursor cursor,
    long promptsAdmitted,
    long groupSequence,
    List<OpenGroupState> openGroups,
    List<CompletedGroupState> completedGroups) {

  /** A group still waiting for members; {@code members} has null where none was accepted. */
  public record OpenGroupState(
      String key,
      String promptId,
      long sequence,
      List<Trajectory> members,
      List<Integer> attempts) {}

  /** A complete group waiting for the next step. */
  public record CompletedGroupState(
      String key, String promptId, long sequence, List<Trajectory> trajectories, boolean masked) {}
}

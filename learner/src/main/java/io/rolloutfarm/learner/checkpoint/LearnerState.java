package io.rolloutfarm.learner.checkpoint;

import java.util.List;
import java.util.Map;

/**
 * The learner's half of a checkpoint ({@code learner-state.json}); the engine's half (weights,
 * optimizer) sits next to it. Trajectories are stored as base64 protobuf so that token ids and
 * logprobs survive exactly.
 *
 * @param step RL steps completed
 * @param policyVersion engine policy version after the last update
 * @param warmupStepsDone behaviour-cloning steps completed
 * @param dataEpoch epoch of the data cursor
 * @param dataPosition position of the data cursor inside its epoch
 * @param promptsAdmitted prompts admitted so far (admission control)
 * @param groupSequence next group sequence number
 * @param openGroups groups waiting for members (accepted members kept; null where none)
 * @param completedGroups complete groups no step has consumed yet
 * @param carriedGroups surplus groups carried over to the next step
 * @param trajectoriesAccepted running total, for status
 * @param lastMetrics the metrics of the last step, so status survives a restart
 */
public record LearnerState(
    int format,
    long step,
    long policyVersion,
    int warmupStepsDone,
    long dataEpoch,
    int dataPosition,
    long promptsAdmitted,
    long groupSequence,
    List<GroupRecord> openGroups,
    List<GroupRecord> completedGroups,
    List<GroupRecord> carriedGroups,
    long trajectoriesAccepted,
    Map<String, Double> lastMetrics) {

  public static final int FORMAT = 1;

  /**
   * One group. {@code trajectories} holds base64 protobuf, null for members not yet accepted;
   * {@code attempts} is per member (open groups only).
   */
  public record GroupRecord(
      String key,
      String promptId,
      long sequence,
      boolean masked,
      List<String> trajectories,
      List<Integer> attempts) {}
}

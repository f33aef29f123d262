package io.rolloutfarm.learner.ofr;

/**
 * Why a group or a trajectory was left out of a training batch. The metric name is what status,
 * metrics files and Prometheus labels use.
 */
public enum FilterReason {
  /** Group: a member failed for infrastructure reasons and the group was masked. */
  INFRA_FAILURE("infra_failure"),
  /** Group: its oldest trajectory lags the policy by more than maxOffPolicySteps. */
  STALE("stale"),
  /** Trajectory: format error or action error ended the interaction. */
  BROKEN_INTERACTION("broken_interaction"),
  /** Trajectory: ran over a token limit. */
  OVER_LENGTH("over_length"),
  /** Trajectory: never called a tool (filter off by default). */
  NO_TOOL_USE("no_tool_use"),
  /** Group: fewer than two trajectories survived the trajectory filters. */
  TOO_FEW_TRAJECTORIES("too_few_trajectories"),
  /** Group: every surviving trajectory has the same reward (no learning signal). */
  ZERO_REWARD_STD("zero_reward_std");

  private final String metricName;

  FilterReason(String metricName) {
    this.metricName = metricName;
  }

  public String metricName() {
    return metricName;
  }
}

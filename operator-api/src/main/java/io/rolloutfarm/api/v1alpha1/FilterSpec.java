package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Oversampling filters; each drops a group (or trajectory) for one reason. */
public class FilterSpec {
  @JsonPropertyDescription("Drop groups whose rewards all agree (no learning signal).")
  public boolean zeroRewardStd = true;

  @JsonPropertyDescription("Drop trajectories whose interaction broke (format or action errors).")
  public boolean brokenInteraction = true;

  @JsonPropertyDescription("Drop trajectories that ran over a token limit.")
  public boolean overLength = true;

  @JsonPropertyDescription("Drop trajectories that never called a tool.")
  public boolean noToolUse = false;
}

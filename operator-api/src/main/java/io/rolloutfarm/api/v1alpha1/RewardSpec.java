package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;

/** Reward rules: R = R_acc + toolBonus * n_toolcalls * 1[R_acc = 1], optionally hierarchical. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RewardSpec {
  @Min(0)
  @JsonPropertyDescription("Accumulative tool reward per tool call on correct answers (c).")
  public double toolBonus = 0.1;

  @Min(0)
  @JsonPropertyDescription("Upper bound of the tool bonus; unset means no cap.")
  public Double toolBonusCap;

  @JsonPropertyDescription(
      "VISTA-R1 hierarchy: repetition penalty first, then format, then correctness.")
  public boolean hierarchical = false;

  @Min(1)
  @JsonPropertyDescription("Answers longer than this many characters score 0.")
  public int maxAnswerChars = 200;
}

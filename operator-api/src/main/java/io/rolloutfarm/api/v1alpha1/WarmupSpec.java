package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;

/** Behaviour-cloning warm-up on demonstration trajectories before RL. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class WarmupSpec {
  @Min(0)
  @JsonPropertyDescription("Supervised steps; 0 disables the warm-up.")
  public int steps = 0;

  @Min(1)
  @JsonPropertyDescription("Demonstrations per supervised step.")
  public int batchSize = 16;

  @JsonPropertyDescription("Learning rate of the warm-up.")
  public double learningRate = 1e-3;

  @JsonPropertyDescription("Demonstrations (JSONL of trajectories); relative to the run file.")
  public String demonstrationsPath;
}

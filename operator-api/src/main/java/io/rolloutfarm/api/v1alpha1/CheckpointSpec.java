package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;

/** Checkpoint storage. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CheckpointSpec {
  @JsonPropertyDescription("PersistentVolumeClaim for checkpoints (mounted at /checkpoints).")
  public String claimName;

  @JsonPropertyDescription(
      "Checkpoint folder for local runs; relative to the run file's folder. On a cluster the"
          + " claim's mount is used.")
  public String path;

  @Min(1)
  @JsonPropertyDescription("Write a checkpoint every this many RL steps.")
  public int everySteps = 10;

  @Min(1)
  @JsonPropertyDescription("Checkpoints kept; older ones are deleted.")
  public int keep = 3;
}

package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

/** Rollout worker pods. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RolloutWorkersSpec {
  @Min(0)
  @JsonPropertyDescription("Worker replicas.")
  public int replicas = 1;

  @Min(1)
  @JsonPropertyDescription("Concurrent trajectories per worker.")
  public int concurrency = 64;

  @JsonPropertyDescription("Container resources.")
  public ResourceRequirements resources;

  @JsonPropertyDescription("Worker image; the operator's configured image when unset.")
  public String image;
}

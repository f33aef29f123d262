package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a sandbox pool. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SandboxPoolStatus {
  @JsonPropertyDescription("The spec generation this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("Pods that exist.")
  public Integer replicas;

  @JsonPropertyDescription("Pods that are ready.")
  public Integer readyReplicas;

  @JsonPropertyDescription("Sessions executing code, summed over ready pods.")
  public Integer busySessions;

  @JsonPropertyDescription("Sessions open, summed over ready pods.")
  public Integer openSessions;

  @JsonPropertyDescription("Label selector of the pool's pods (for the scale subresource).")
  public String selector;

  @JsonPropertyDescription("Ready, Scaling.")
  public List<Condition> conditions = new ArrayList<>();
}

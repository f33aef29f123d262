package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a sandbox pool. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SandboxPoolStatus {
  @JsonPropertyDescription("The spec generation this status describes.")
  public Long observedGeneration;

  @StatusReplicas
  @JsonPropertyDescription("Pods that exist.")
  public Integer replicas;

  @JsonPropertyDescription("Pods that are ready.")
  public Integer readyReplicas;

  @JsonPropertyDescription("Sessions executing code, summed over ready pods.")
  public Integer busySessions;

  @JsonPropertyDescription("Sessions open, summed over ready pods.")
  public Integer openSessions;

  @LabelSelector
  @JsonPropertyDescription("Label selector of the pool's pods (for the scale subresource).")
  public String selector;

  @JsonPropertyDescription("Pods the autoscaler (or spec.replicas) currently asks for.")
  public Integer desiredReplicas;

  @JsonPropertyDescription("The latest autoscaling decision, in words.")
  public String lastScalingDecision;

  @JsonPropertyDescription("When the pool was last resized, RFC 3339.")
  public String lastScaleTime;

  @JsonPropertyDescription("Ready (pods ready to serve) and Scaling (a resize is in progress).")
  public List<Condition> conditions = new ArrayList<>();
}

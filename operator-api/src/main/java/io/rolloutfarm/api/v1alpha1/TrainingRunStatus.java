package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a run, written by the operator from the learner's status API. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingRunStatus {
  @JsonPropertyDescription("The spec generation this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription(
      "Ready, LearnerReady, SandboxPoolReady, RolloutsFlowing, Progressing, Complete, Failed,"
          + " Suspended.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("RL steps completed.")
  public Long step;

  @JsonPropertyDescription("Current policy version.")
  public Long policyVersion;

  @JsonPropertyDescription("Mean reward of the latest step.")
  public Double rewardMean;

  @JsonPropertyDescription("Accuracy of the latest step.")
  public Double accuracy;

  @JsonPropertyDescription("Tool calls per trajectory in the latest step.")
  public Double toolCallsPerTrajectory;

  @JsonPropertyDescription("Sandbox pods currently running.")
  public Integer sandboxReplicas;
}

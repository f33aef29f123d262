package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

/** An autoscaled pool of sandbox pods. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SandboxPoolSpec {
  @Min(0)
  @JsonPropertyDescription("Desired pods; written by the autoscaler or HPA via /scale.")
  public Integer replicas;

  @Min(0)
  @JsonPropertyDescription("Fewest pods.")
  public int minReplicas = 1;

  @Min(1)
  @JsonPropertyDescription("Most pods.")
  public int maxReplicas = 4;

  @Min(1)
  @JsonPropertyDescription("Concurrent sessions one pod serves (its capacity).")
  public int sessionsPerPod = 16;

  @Min(0)
  @Max(1)
  @JsonPropertyDescription("Busy-session fraction the autoscaler aims for.")
  public double targetUtilization = 0.7;

  @JsonPropertyDescription("Compute and log scaling decisions without acting on them.")
  public boolean advisory = false;

  @Min(1)
  @JsonPropertyDescription("Wall-clock limit of one execution, in seconds.")
  public int executeTimeoutSeconds = 30;

  @Min(16)
  @JsonPropertyDescription("Memory limit of one session, in MiB.")
  public int sessionMemoryMiB = 1024;

  @JsonPropertyDescription("Container resources of a sandbox pod.")
  public ResourceRequirements resources;

  @JsonPropertyDescription("RuntimeClass of sandbox pods, e.g. gvisor or kata.")
  public String runtimeClassName;

  @JsonPropertyDescription("Sandbox image; the operator's configured image when unset.")
  public String image;
}

package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;

/**
 * An autoscaled pool of sandbox pods. While {@code replicas} is unset the operator's autoscaler
 * sizes the pool within min..max; an HPA or KEDA (through the scale subresource) or a person sets
 * {@code replicas} to take over.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.minReplicas <= self.maxReplicas",
    message = "minReplicas must be <= maxReplicas",
    fieldPath = ".minReplicas",
    reason = "FieldValueInvalid")
public class SandboxPoolSpec {
  @Min(0)
  @SpecReplicas
  @JsonPropertyDescription(
      "Pods wanted, set by an HPA/KEDA through /scale or by hand; unset lets the operator's"
          + " autoscaler decide within minReplicas..maxReplicas.")
  public Integer replicas;

  @Min(0)
  @Default("1")
  @JsonPropertyDescription("Fewest pods.")
  public int minReplicas = 1;

  @Min(1)
  @Default("4")
  @JsonPropertyDescription("Most pods.")
  public int maxReplicas = 4;

  @Min(1)
  @JsonPropertyDescription("Concurrent sessions one pod serves (its capacity).")
  public int sessionsPerPod = 16;

  @Min(value = 0, inclusive = false)
  @Max(1)
  @JsonPropertyDescription("Fraction of session slots in use that the autoscaler aims for.")
  public double targetUtilization = 0.7;

  @Min(0)
  @Max(1)
  @JsonPropertyDescription("No-action band around the target, as a fraction (0.1 = ±10 %).")
  public double tolerance = 0.1;

  @Min(0)
  @JsonPropertyDescription("Scale-down uses the largest recommendation over this many seconds.")
  public int scaleDownWindowSeconds = 300;

  @Min(value = 1, inclusive = false)
  @JsonPropertyDescription("One scaling decision changes the size at most by this factor.")
  public double maxStepFactor = 2.0;

  @Min(1)
  @JsonPropertyDescription("Seconds between two autoscaling evaluations.")
  public int scaleIntervalSeconds = 15;

  @JsonPropertyDescription("Compute scaling decisions and report them as events without acting.")
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

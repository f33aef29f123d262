package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** Learner pods. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LearnerSpec {
  @Min(1)
  @JsonPropertyDescription("Learner replicas.")
  public int replicas = 1;

  @Min(0)
  @JsonPropertyDescription("nvidia.com/gpu per learner pod; 0 runs the engine on CPU.")
  public int gpusPerPod = 1;

  @JsonPropertyDescription("Container resources (GPUs are added from gpusPerPod).")
  public ResourceRequirements resources;

  @JsonPropertyDescription("Node selector of learner pods.")
  public Map<String, String> nodeSelector;

  @JsonPropertyDescription("Extra tolerations (the NVIDIA GPU taint is always tolerated).")
  public List<Toleration> tolerations;

  @JsonPropertyDescription("Learner image; the operator's configured image when unset.")
  public String image;

  @JsonPropertyDescription("RuntimeClass of learner pods, e.g. nvidia.")
  public String runtimeClassName;
}

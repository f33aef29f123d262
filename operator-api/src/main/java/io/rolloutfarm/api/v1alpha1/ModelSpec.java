package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** The policy model. Exactly one of {@code builtin} and {@code weightsPath} is set. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.weightsClaimName) || has(self.weightsPath)",
    message = "weightsClaimName needs weightsPath (the weights' path inside the claim)",
    fieldPath = ".weightsPath",
    reason = "FieldValueRequired")
public class ModelSpec {
  @JsonPropertyDescription(
      "Built-in small vision-language policy preset (e.g. \"tiny\"); for local runs and tests.")
  public String builtin = "tiny";

  @JsonPropertyDescription("Path to model weights (inside weightsClaimName when set).")
  public String weightsPath;

  @JsonPropertyDescription("PersistentVolumeClaim holding the weights, mounted read-only.")
  public String weightsClaimName;

  @JsonPropertyDescription("Extra engine settings, e.g. model width or layers for builtin.")
  public Map<String, String> engineOptions;
}

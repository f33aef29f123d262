package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/**
 * Prompts in JSONL: one record per line with {@code id}, {@code question}, {@code answer}, {@code
 * images[]}, optional {@code video} and {@code verifier}; media paths are relative to the file.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DatasetSpec {
  @Required
  @JsonPropertyDescription("Training prompts (JSONL). Relative paths resolve against the run file.")
  public String path;

  @JsonPropertyDescription("Held-out prompts for evaluation (JSONL); optional.")
  public String evalPath;

  @JsonPropertyDescription("PersistentVolumeClaim holding the dataset, mounted read-only.")
  public String claimName;
}

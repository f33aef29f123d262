package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** System prompt template files; unset fields use the built-in templates. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PromptSpec {
  @JsonPropertyDescription("Template for image tasks.")
  public String imageTemplate;

  @JsonPropertyDescription("Template for video tasks.")
  public String videoTemplate;
}

package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Sandboxes of a run: a reference to an existing SandboxPool, or an inline template. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SandboxSpec {
  @JsonPropertyDescription("Name of an existing SandboxPool in the run's namespace.")
  public String poolRef;

  @JsonPropertyDescription("Inline pool owned by the run (used when poolRef is unset).")
  public SandboxPoolSpec template = new SandboxPoolSpec();
}

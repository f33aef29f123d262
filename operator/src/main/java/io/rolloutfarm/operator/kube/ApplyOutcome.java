package io.rolloutfarm.operator.kube;

/** What applying one desired object did. */
public enum ApplyOutcome {
  CREATED,
  UPDATED,
  UNCHANGED
}

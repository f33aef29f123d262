package io.rolloutfarm.api.v1alpha1;

/**
 * One broken rule of a resource.
 *
 * @param field the offending field's path, e.g. {@code spec.algorithm.trainBatchSize}
 * @param message what is wrong with it, e.g. {@code must be ≤ spec.algorithm.oversampleBatchSize
 *     (32)}
 */
public record Violation(String field, String message) {
  @Override
  public String toString() {
    return field + ": " + message;
  }
}

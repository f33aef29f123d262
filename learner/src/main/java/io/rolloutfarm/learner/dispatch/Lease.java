package io.rolloutfarm.learner.dispatch;

import java.time.Instant;

/** Member {@code index} of group {@code groupKey}, held by a worker until {@code deadline}. */
public record Lease(
    String id, String workerId, String groupKey, int index, int attempt, Instant deadline) {
  Lease renewed(Instant newDeadline) {
    return new Lease(id, workerId, groupKey, index, attempt, newDeadline);
  }
}

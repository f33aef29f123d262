package io.rolloutfarm.operator.pool;

import io.fabric8.kubernetes.api.model.Pod;
import io.rolloutfarm.proto.v1.SandboxStats;
import java.util.Optional;

/** Reads {@code SandboxService.GetStats} of one sandbox pod; empty when it does not answer. */
public interface SandboxStatsClient {
  Optional<SandboxStats> stats(Pod pod);
}

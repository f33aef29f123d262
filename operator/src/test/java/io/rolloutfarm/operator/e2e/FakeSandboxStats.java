package io.rolloutfarm.operator.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.rolloutfarm.operator.pool.SandboxStatsClient;
import io.rolloutfarm.proto.v1.SandboxStats;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** GetStats answers per pod name, in place of gRPC calls to pod IPs the mock server has none of. */
@Alternative
@Priority(1)
@Singleton
public class FakeSandboxStats implements SandboxStatsClient {
  public final Map<String, SandboxStats> byPod = new ConcurrentHashMap<>();

  @Override
  public Optional<SandboxStats> stats(Pod pod) {
    return Optional.ofNullable(byPod.get(pod.getMetadata().getName()));
  }
}

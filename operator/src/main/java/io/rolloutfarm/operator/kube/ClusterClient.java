package io.rolloutfarm.operator.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The few Kubernetes operations the reconcilers need. Production uses {@link Fabric8ClusterClient};
 * plain reconcile tests use an in-memory fake.
 */
public interface ClusterClient {
  <T extends HasMetadata> Optional<T> get(Class<T> type, String namespace, String name);

  /** Pods in a namespace whose labels include all of {@code selector}. */
  List<Pod> pods(String namespace, Map<String, String> selector);

  <T extends HasMetadata> T create(T resource);

  /** Replaces an object; {@code resource} carries the resourceVersion it replaces. */
  <T extends HasMetadata> T replace(T resource);

  void delete(Class<? extends HasMetadata> type, String namespace, String name);
}

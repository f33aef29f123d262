package io.rolloutfarm.operator.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@link ClusterClient} over the Fabric8 client (direct API calls, no caches). */
@ApplicationScoped
public class Fabric8ClusterClient implements ClusterClient {
  private final KubernetesClient client;

  public Fabric8ClusterClient(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public <T extends HasMetadata> Optional<T> get(Class<T> type, String namespace, String name) {
    return Optional.ofNullable(client.resources(type).inNamespace(namespace).withName(name).get());
  }

  @Override
  public List<Pod> pods(String namespace, Map<String, String> selector) {
    return client.pods().inNamespace(namespace).withLabels(selector).list().getItems();
  }

  @Override
  public <T extends HasMetadata> T create(T resource) {
    return client.resource(resource).create();
  }

  @Override
  public <T extends HasMetadata> T replace(T resource) {
    return client.resource(resource).update();
  }

  @Override
  public void delete(Class<? extends HasMetadata> type, String namespace, String name) {
    client.resources(type).inNamespace(namespace).withName(name).delete();
  }
}

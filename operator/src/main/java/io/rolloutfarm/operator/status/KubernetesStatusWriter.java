package io.rolloutfarm.operator.status;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;

/** Patches the status subresource (JSON merge patch: the conditions list is replaced whole). */
@ApplicationScoped
public class KubernetesStatusWriter extends StatusWriter {
  private final KubernetesClient client;

  public KubernetesStatusWriter(KubernetesClient client) {
    this.client = client;
  }

  @Override
  @SuppressWarnings("unchecked")
  protected <S, R extends CustomResource<?, S>> void persist(R resource, S status) {
    R copy;
    try {
      copy = (R) resource.getClass().getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("custom resources have a no-argument constructor", e);
    }
    copy.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withName(resource.getMetadata().getName())
            .withNamespace(resource.getMetadata().getNamespace())
            .build());
    copy.setStatus(status);
    client.resource(copy).patchStatus();
  }
}

package io.rolloutfarm.operator.status;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Writes the status subresource with a JSON Patch that sets {@code /status} whole: lists such as
 * the conditions are replaced, never merged element by element, and the operator (the only writer
 * of status) needs no resourceVersion round trip.
 */
@ApplicationScoped
public class KubernetesStatusWriter extends StatusWriter {
  private final KubernetesClient client;

  public KubernetesStatusWriter(KubernetesClient client) {
    this.client = client;
  }

  @Override
  @SuppressWarnings("unchecked")
  protected <S, R extends CustomResource<?, S>> void persist(R resource, S status) {
    String patch =
        "[{\"op\":\"add\",\"path\":\"/status\",\"value\":"
            + client.getKubernetesSerialization().asJson(status)
            + "}]";
    client
        .resources((Class<R>) resource.getClass())
        .inNamespace(resource.getMetadata().getNamespace())
        .withName(resource.getMetadata().getName())
        .subresource("status")
        .patch(PatchContext.of(PatchType.JSON), patch);
  }
}

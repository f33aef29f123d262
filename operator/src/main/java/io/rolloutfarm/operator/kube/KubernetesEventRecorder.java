package io.rolloutfarm.operator.kube;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import org.jboss.logging.Logger;

/** Writes core/v1 Events; a failure to record is logged, never fails a reconciliation. */
@ApplicationScoped
public class KubernetesEventRecorder implements EventRecorder {
  private static final Logger LOG = Logger.getLogger(KubernetesEventRecorder.class);
  private static final int MAX_MESSAGE = 1024;

  private final KubernetesClient client;
  private final Clock clock;

  public KubernetesEventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  @Override
  public void record(HasMetadata about, Type type, String reason, String message) {
    String now = Instant.now(clock).toString();
    String text = message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) : message;
    LOG.infof(
        "%s %s/%s %s: %s",
        about.getKind(),
        about.getMetadata().getNamespace(),
        about.getMetadata().getName(),
        reason,
        text);
    try {
      client
          .v1()
          .events()
          .inNamespace(about.getMetadata().getNamespace())
          .resource(
              new EventBuilder()
                  .withNewMetadata()
                  .withName(
                      about.getMetadata().getName()
                          + "."
                          + UUID.randomUUID().toString().substring(0, 8))
                  .withNamespace(about.getMetadata().getNamespace())
                  .endMetadata()
                  .withInvolvedObject(
                      new ObjectReferenceBuilder()
                          .withApiVersion(about.getApiVersion())
                          .withKind(about.getKind())
                          .withName(about.getMetadata().getName())
                          .withNamespace(about.getMetadata().getNamespace())
                          .withUid(about.getMetadata().getUid())
                          .build())
                  .withType(type.name())
                  .withReason(reason)
                  .withMessage(text)
                  .withFirstTimestamp(now)
                  .withLastTimestamp(now)
                  .withCount(1)
                  .withNewSource()
                  .withComponent("rolloutfarm-operator")
                  .endSource()
                  .build())
          .create();
    } catch (KubernetesClientException e) {
      LOG.warnf("could not record event %s on %s: %s", reason, about.getMetadata().getName(), e);
    }
  }
}

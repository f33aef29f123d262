package io.rolloutfarm.operator.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.CustomResource;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one place that writes a resource's status. It compares the new status with the one the
 * resource carries and skips the write when nothing changed, so a steady-state reconciliation makes
 * no API calls that change anything. It never touches spec.
 */
public abstract class StatusWriter {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final AtomicLong writes = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();

  /**
   * Writes {@code status} unless it equals the resource's current status.
   *
   * @return whether a write happened
   */
  public <S, R extends CustomResource<?, S>> boolean write(R resource, S status) {
    JsonNode before = JSON.valueToTree(resource.getStatus());
    JsonNode after = JSON.valueToTree(status);
    if (before.equals(after)) {
      skipped.incrementAndGet();
      return false;
    }
    persist(resource, status);
    resource.setStatus(status);
    writes.incrementAndGet();
    return true;
  }

  /** Sends the status to the API server (status subresource only). */
  protected abstract <S, R extends CustomResource<?, S>> void persist(R resource, S status);

  public long writes() {
    return writes.get();
  }

  public long skipped() {
    return skipped.get();
  }
}

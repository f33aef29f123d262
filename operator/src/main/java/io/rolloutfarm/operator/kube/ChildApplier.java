package io.rolloutfarm.operator.kube;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Creates or updates child objects from their desired state without churn.
 *
 * <p>The API server fills in defaults (and other controllers add fields), so comparing a desired
 * object with the live one field by field would see differences forever. Instead the hash of the
 * desired state is stored in an annotation; an object is replaced only when what the operator wants
 * changes. The flip side: manual edits of children are not reverted until the desired state itself
 * changes.
 */
public final class ChildApplier {
  public static final String HASH_ANNOTATION = "rolloutfarm.io/desired-hash";

  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .enable(com.fasterxml.jackson.databind.MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .build();

  private final ClusterClient cluster;

  public ChildApplier(ClusterClient cluster) {
    this.cluster = cluster;
  }

  /** Sets a controller owner reference on {@code child} pointing to {@code owner}. */
  public static <T extends HasMetadata> T ownedBy(T child, HasMetadata owner) {
    OwnerReference ref =
        new OwnerReferenceBuilder()
            .withApiVersion(owner.getApiVersion())
            .withKind(owner.getKind())
            .withName(owner.getMetadata().getName())
            .withUid(owner.getMetadata().getUid())
            .withController(true)
            .withBlockOwnerDeletion(true)
            .build();
    child.getMetadata().setOwnerReferences(List.of(ref));
    child.getMetadata().setNamespace(owner.getMetadata().getNamespace());
    return child;
  }

  /** Makes the cluster hold {@code desired}. */
  @SuppressWarnings("unchecked")
  public <T extends HasMetadata> ApplyOutcome apply(T desired) {
    String hash = hash(desired);
    Map<String, String> annotations =
        new HashMap<>(
            Optional.ofNullable(desired.getMetadata().getAnnotations()).orElseGet(Map::of));
    annotations.put(HASH_ANNOTATION, hash);
    desired.getMetadata().setAnnotations(annotations);

    Optional<T> existing =
        cluster.get(
            (Class<T>) desired.getClass(),
            desired.getMetadata().getNamespace(),
            desired.getMetadata().getName());
    if (existing.isEmpty()) {
      cluster.create(desired);
      return ApplyOutcome.CREATED;
    }
    T live = existing.get();
    Map<String, String> liveAnnotations = live.getMetadata().getAnnotations();
    if (liveAnnotations != null && hash.equals(liveAnnotations.get(HASH_ANNOTATION))) {
      return ApplyOutcome.UNCHANGED;
    }
    desired.getMetadata().setResourceVersion(live.getMetadata().getResourceVersion());
    if (desired instanceof Service svc && live instanceof Service liveSvc) {
      // Cluster IPs are allocated by the API server and immutable.
      svc.getSpec().setClusterIP(liveSvc.getSpec().getClusterIP());
      svc.getSpec().setClusterIPs(liveSvc.getSpec().getClusterIPs());
    }
    cluster.replace(desired);
    return ApplyOutcome.UPDATED;
  }

  /** Hash of what the operator decides about an object: everything but server-owned metadata. */
  static String hash(HasMetadata desired) {
    try {
      Map<?, ?> tree = CANONICAL.convertValue(desired, Map.class);
      Map<?, ?> metadata = (Map<?, ?>) tree.get("metadata");
      if (metadata != null) {
        for (String k : List.of("resourceVersion", "uid", "creationTimestamp", "generation")) {
          metadata.remove(k);
        }
        Object annotations = metadata.get("annotations");
        if (annotations instanceof Map<?, ?> a) {
          a.remove(HASH_ANNOTATION);
        }
      }
      tree.remove("status");
      byte[] bytes = CANONICAL.writeValueAsString(tree).getBytes(StandardCharsets.UTF_8);
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))
          .substring(0, 16);
    } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot hash " + desired.getKind(), e);
    }
  }
}

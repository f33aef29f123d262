package io.rolloutfarm.operator.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.rolloutfarm.operator.kube.ClusterClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/** An in-memory API server: stores copies, assigns uids and resourceVersions, counts writes. */
public final class TestingCluster implements ClusterClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, HasMetadata> objects = new TreeMap<>();
  private final AtomicLong versions = new AtomicLong();
  public int creates;
  public int replaces;
  public int deletes;

  private static String key(Class<?> type, String ns, String name) {
    return type.getSimpleName() + "/" + ns + "/" + name;
  }

  @SuppressWarnings("unchecked")
  private static <T> T copy(T value) {
    return (T) JSON.convertValue(value, value.getClass());
  }

  @Override
  public <T extends HasMetadata> Optional<T> get(Class<T> type, String namespace, String name) {
    return Optional.ofNullable(objects.get(key(type, namespace, name)))
        .map(type::cast)
        .map(TestingCluster::copy);
  }

  @Override
  public List<Pod> pods(String namespace, Map<String, String> selector) {
    List<Pod> out = new ArrayList<>();
    for (HasMetadata o : objects.values()) {
      if (o instanceof Pod p
          && namespace.equals(p.getMetadata().getNamespace())
          && p.getMetadata().getLabels() != null
          && p.getMetadata().getLabels().entrySet().containsAll(selector.entrySet())) {
        out.add(copy(p));
      }
    }
    return out;
  }

  @Override
  public <T extends HasMetadata> T create(T resource) {
    String k =
        key(
            resource.getClass(),
            resource.getMetadata().getNamespace(),
            resource.getMetadata().getName());
    if (objects.containsKey(k)) {
      throw new IllegalStateException("already exists: " + k);
    }
    T stored = copy(resource);
    stored.getMetadata().setUid(UUID.randomUUID().toString());
    stored.getMetadata().setResourceVersion(Long.toString(versions.incrementAndGet()));
    stored.getMetadata().setGeneration(1L);
    objects.put(k, stored);
    creates++;
    return copy(stored);
  }

  @Override
  public <T extends HasMetadata> T replace(T resource) {
    String k =
        key(
            resource.getClass(),
            resource.getMetadata().getNamespace(),
            resource.getMetadata().getName());
    HasMetadata live = objects.get(k);
    if (live == null) {
      throw new IllegalStateException("not found: " + k);
    }
    if (!live.getMetadata()
        .getResourceVersion()
        .equals(resource.getMetadata().getResourceVersion())) {
      throw new IllegalStateException("conflict on " + k);
    }
    T stored = copy(resource);
    stored.getMetadata().setUid(live.getMetadata().getUid());
    stored.getMetadata().setResourceVersion(Long.toString(versions.incrementAndGet()));
    stored.getMetadata().setGeneration(live.getMetadata().getGeneration() + 1);
    objects.put(k, stored);
    replaces++;
    return copy(stored);
  }

  @Override
  public void delete(Class<? extends HasMetadata> type, String namespace, String name) {
    if (objects.remove(key(type, namespace, name)) != null) {
      deletes++;
    }
  }

  /** Puts an object as another controller (kubelet, scheduler) would; not counted as a write. */
  public <T extends HasMetadata> T put(T resource) {
    T stored = copy(resource);
    if (stored.getMetadata().getUid() == null) {
      stored.getMetadata().setUid(UUID.randomUUID().toString());
    }
    stored.getMetadata().setResourceVersion(Long.toString(versions.incrementAndGet()));
    objects.put(
        key(stored.getClass(), stored.getMetadata().getNamespace(), stored.getMetadata().getName()),
        stored);
    return stored;
  }

  /** The stored object (a copy), failing when absent. */
  public <T extends HasMetadata> T require(Class<T> type, String namespace, String name) {
    return get(type, namespace, name)
        .orElseThrow(() -> new AssertionError("missing " + key(type, namespace, name)));
  }

  public List<String> keys() {
    return List.copyOf(objects.keySet());
  }
}

package io.rolloutfarm.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** Kubernetes recommended labels plus the farm's own. */
public final class Labels {
  public static final String NAME = "app.kubernetes.io/name";
  public static final String INSTANCE = "app.kubernetes.io/instance";
  public static final String COMPONENT = "app.kubernetes.io/component";
  public static final String PART_OF = "app.kubernetes.io/part-of";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String RUN = "rolloutfarm.io/run";
  public static final String POOL = "rolloutfarm.io/sandbox-pool";

  public static final String APP = "rollout-farm";
  public static final String OPERATOR = "rolloutfarm-operator";

  /** Selects everything the operator made; informers watch only these. */
  public static final String MANAGED_SELECTOR = MANAGED_BY + "=" + OPERATOR;

  public static final String LEARNER = "learner";
  public static final String WORKER = "rollout-worker";
  public static final String SANDBOX = "sandbox";
  public static final String CONFIG = "config";

  private Labels() {}

  /** The full label set of a run's component. */
  public static Map<String, String> forRun(HasMetadata run, String component) {
    Map<String, String> labels = selectorForRun(run, component);
    labels.put(PART_OF, APP);
    labels.put(MANAGED_BY, OPERATOR);
    labels.put(RUN, run.getMetadata().getName());
    return labels;
  }

  /** The stable subset used in selectors (selectors of Deployments cannot change later). */
  public static Map<String, String> selectorForRun(HasMetadata run, String component) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(NAME, APP);
    labels.put(INSTANCE, run.getMetadata().getName());
    labels.put(COMPONENT, component);
    return labels;
  }

  /** The full label set of a pool's objects and pods. */
  public static Map<String, String> forPool(HasMetadata pool) {
    Map<String, String> labels = selectorForPool(pool);
    labels.put(INSTANCE, pool.getMetadata().getName());
    labels.put(PART_OF, APP);
    labels.put(MANAGED_BY, OPERATOR);
    return labels;
  }

  public static Map<String, String> selectorForPool(HasMetadata pool) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(NAME, APP);
    labels.put(COMPONENT, SANDBOX);
    labels.put(POOL, pool.getMetadata().getName());
    return labels;
  }

  /** {@code k=v,k=v}, the form of a scale subresource's selector. */
  public static String toSelectorString(Map<String, String> labels) {
    return labels.entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }
}

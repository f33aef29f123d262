package io.rolloutfarm.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Builds a condition list the Kubernetes way: every type present with {@code True} or {@code
 * False}; {@code lastTransitionTime} moves only when the status flips; reason, message and
 * observedGeneration are refreshed together on every write.
 */
public final class Conditions {
  private final List<Condition> previous;
  private final List<Condition> next = new ArrayList<>();
  private final long generation;
  private final String now;

  public Conditions(List<Condition> previous, long generation, Instant now) {
    this.previous = previous == null ? List.of() : previous;
    this.generation = generation;
    this.now = now.toString();
  }

  public Conditions set(String type, boolean status, String reason, String message) {
    String value = status ? "True" : "False";
    String transition =
        find(previous, type)
            .filter(c -> value.equals(c.getStatus()))
            .map(Condition::getLastTransitionTime)
            .orElse(now);
    next.removeIf(c -> c.getType().equals(type));
    next.add(
        new ConditionBuilder()
            .withType(type)
            .withStatus(value)
            .withReason(reason)
            .withMessage(message)
            .withLastTransitionTime(transition)
            .withObservedGeneration(generation)
            .build());
    return this;
  }

  public List<Condition> build() {
    return List.copyOf(next);
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }
}

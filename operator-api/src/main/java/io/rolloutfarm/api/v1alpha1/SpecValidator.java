package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The validation rules of {@link TrainingRun} and {@link SandboxPool} in plain Java, shared by the
 * operator (which marks a run {@code Failed/InvalidSpec}) and {@code farm validate}.
 *
 * <p>Range and required checks are read from the same {@code @Min}/{@code @Max}/{@code @Required}
 * annotations that the CRD schema is generated from; each CEL rule of the model has its Java twin
 * in {@link #CROSS_FIELD_RULES} (a test checks that none is missing). A few rules that the API
 * server cannot express (lengths of derived object names) live only here.
 */
public final class SpecValidator {

  /** Children are named {@code <run>-learner}, {@code <run>-workers}, ...; pods add more. */
  public static final int MAX_NAME_LENGTH = 40;

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final String MODEL_PACKAGE = SpecValidator.class.getPackageName();

  /** A cross-field rule: the CEL expression in the CRD and its Java twin. */
  private record CrossFieldRule<T>(
      Class<T> type, String cel, BiFunction<T, String, Optional<Violation>> check) {
    Optional<Violation> apply(Object value, String path) {
      return check.apply(type.cast(value), path);
    }
  }

  private static final List<CrossFieldRule<?>> CROSS_FIELD_RULES =
      List.of(
          new CrossFieldRule<>(
              AlgorithmSpec.class,
              "self.trainBatchSize <= self.oversampleBatchSize",
              (a, p) ->
                  a.trainBatchSize <= a.oversampleBatchSize
                      ? Optional.empty()
                      : Optional.of(
                          new Violation(
                              p + ".trainBatchSize",
                              "must be ≤ "
                                  + p
                                  + ".oversampleBatchSize ("
                                  + a.oversampleBatchSize
                                  + ")"))),
          new CrossFieldRule<>(
              AlgorithmSpec.class,
              "self.maxTokensPerTurn <= self.maxTotalTokens",
              (a, p) ->
                  a.maxTokensPerTurn <= a.maxTotalTokens
                      ? Optional.empty()
                      : Optional.of(
                          new Violation(
                              p + ".maxTokensPerTurn",
                              "must be ≤ " + p + ".maxTotalTokens (" + a.maxTotalTokens + ")"))),
          new CrossFieldRule<>(
              SandboxPoolSpec.class,
              "self.minReplicas <= self.maxReplicas",
              (s, p) ->
                  s.minReplicas <= s.maxReplicas
                      ? Optional.empty()
                      : Optional.of(
                          new Violation(
                              p + ".minReplicas",
                              "must be ≤ " + p + ".maxReplicas (" + s.maxReplicas + ")"))),
          new CrossFieldRule<>(
              ModelSpec.class,
              "!has(self.weightsClaimName) || has(self.weightsPath)",
              (m, p) ->
                  m.weightsClaimName == null || m.weightsPath != null
                      ? Optional.empty()
                      : Optional.of(
                          new Violation(
                              p + ".weightsPath",
                              "required when "
                                  + p
                                  + ".weightsClaimName is set (the weights' path inside the"
                                  + " claim)"))));

  private SpecValidator() {}

  /** Every broken rule of a run; empty when it is valid. */
  public static List<Violation> validate(TrainingRun run) {
    List<Violation> out = new ArrayList<>();
    checkName(run, out);
    if (run.getSpec() == null) {
      out.add(new Violation("spec", "required"));
      return out;
    }
    walk(run.getSpec(), "spec", out);
    String poolRef = run.getSpec().sandbox == null ? null : run.getSpec().sandbox.poolRef;
    if (poolRef != null && !DNS_SUBDOMAIN.matcher(poolRef).matches()) {
      out.add(
          new Violation(
              "spec.sandbox.poolRef",
              "must be the name of a SandboxPool, got \"" + poolRef + "\""));
    }
    return out;
  }

  /** Every broken rule of a pool; empty when it is valid. */
  public static List<Violation> validate(SandboxPool pool) {
    List<Violation> out = new ArrayList<>();
    checkName(pool, out);
    if (pool.getSpec() == null) {
      out.add(new Violation("spec", "required"));
      return out;
    }
    walk(pool.getSpec(), "spec", out);
    return out;
  }

  /** The CEL rules that have a Java twin here. */
  public static Set<String> mirroredCelRules() {
    return CROSS_FIELD_RULES.stream().map(CrossFieldRule::cel).collect(Collectors.toSet());
  }

  /** All violations as one message, one per line. */
  public static String describe(List<Violation> violations) {
    return violations.stream().map(Violation::toString).collect(Collectors.joining("\n"));
  }

  private static void checkName(HasMetadata resource, List<Violation> out) {
    String name = resource.getMetadata() == null ? null : resource.getMetadata().getName();
    if (name == null) {
      return; // local runs take the file name
    }
    if (name.length() > MAX_NAME_LENGTH || !DNS_LABEL.matcher(name).matches()) {
      out.add(
          new Violation(
              "metadata.name",
              "must be lower-case letters, digits and '-', start with a letter and be at most "
                  + MAX_NAME_LENGTH
                  + " characters (it prefixes the names of the pods and services), got \""
                  + name
                  + "\""));
    }
  }

  private static void walk(Object value, String path, List<Violation> out) {
    for (Class<?> c = value.getClass();
        c != null && c.getPackageName().equals(MODEL_PACKAGE);
        c = c.getSuperclass()) {
      for (Field field : c.getDeclaredFields()) {
        if (Modifier.isStatic(field.getModifiers()) || !Modifier.isPublic(field.getModifiers())) {
          continue;
        }
        checkField(value, field, path + "." + jsonName(field), out);
      }
    }
    for (CrossFieldRule<?> rule : CROSS_FIELD_RULES) {
      if (rule.type().isInstance(value)) {
        rule.apply(value, path).ifPresent(out::add);
      }
    }
  }

  private static void checkField(Object owner, Field field, String path, List<Violation> out) {
    Object value;
    try {
      value = field.get(owner);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("model fields are public: " + field, e);
    }
    if (value == null || (value instanceof String s && s.isBlank())) {
      if (field.isAnnotationPresent(Required.class)) {
        out.add(new Violation(path, "required"));
      }
      return;
    }
    if (value instanceof Number number) {
      double v = number.doubleValue();
      Min min = field.getAnnotation(Min.class);
      if (min != null && (min.inclusive() ? v < min.value() : v <= min.value())) {
        out.add(
            new Violation(
                path,
                "must be " + (min.inclusive() ? "≥ " : "> ") + format(min.value()) + got(number)));
      }
      Max max = field.getAnnotation(Max.class);
      if (max != null && (max.inclusive() ? v > max.value() : v >= max.value())) {
        out.add(
            new Violation(
                path,
                "must be " + (max.inclusive() ? "≤ " : "< ") + format(max.value()) + got(number)));
      }
      return;
    }
    if (!value.getClass().isEnum() && value.getClass().getPackageName().equals(MODEL_PACKAGE)) {
      walk(value, path, out);
    }
  }

  private static String jsonName(Field field) {
    JsonProperty property = field.getAnnotation(JsonProperty.class);
    return property != null && !property.value().isEmpty() ? property.value() : field.getName();
  }

  private static String got(Number n) {
    return " (got " + format(n.doubleValue()) + ")";
  }

  private static String format(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}

package io.rolloutfarm.worker.reward;

import java.util.List;

/** Picks a verifier from a task's {@code verifier.kind}. */
public final class Verifiers {
  /** The kinds a task may name; an empty kind means {@code exact}. */
  public static final List<String> KINDS = List.of("exact", "numeric", "choice", "boxed");

  private Verifiers() {}

  /** The verifier of a task's verifier spec. */
  public static Verifier of(io.rolloutfarm.proto.v1.Verifier spec) {
    return switch (spec.getKind()) {
      case "", "exact" -> new ExactVerifier();
      case "numeric" -> new NumericVerifier(spec.getTolerance());
      case "choice" -> new ChoiceVerifier();
      case "boxed" -> new BoxedVerifier();
      default ->
          throw new IllegalArgumentException(
              "unknown verifier kind '" + spec.getKind() + "' (known: " + KINDS + ")");
    };
  }
}

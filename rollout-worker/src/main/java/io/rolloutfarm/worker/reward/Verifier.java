package io.rolloutfarm.worker.reward;

import io.rolloutfarm.worker.agent.ResponseParser.Answer;

/**
 * Compares a final answer with the reference answer. Implementations: {@link ExactVerifier}, {@link
 * NumericVerifier}, {@link ChoiceVerifier}, {@link BoxedVerifier}; {@link Verifiers} picks one from
 * a task's {@code verifier.kind}.
 */
public sealed interface Verifier
    permits ExactVerifier, NumericVerifier, ChoiceVerifier, BoxedVerifier {
  /** Judges an answer. */
  Verdict check(Answer answer, String reference);
}

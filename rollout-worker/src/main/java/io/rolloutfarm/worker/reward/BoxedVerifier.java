package io.rolloutfarm.worker.reward;

import io.rolloutfarm.worker.agent.ResponseParser.Answer;

/** Exact match on the {@code \boxed{}} content; an answer without {@code \boxed{}} scores 0. */
public record BoxedVerifier() implements Verifier {
  @Override
  public Verdict check(Answer answer, String reference) {
    if (!answer.boxed()) {
      return Verdict.wrong(answer.extracted(), "the answer has no \\boxed{}");
    }
    return new ExactVerifier().check(answer, reference);
  }
}

package io.rolloutfarm.worker.reward;

import io.rolloutfarm.worker.agent.ResponseParser.Answer;

/**
 * Normalised string match: case, surrounding whitespace and quotes, repeated spaces and a final
 * period do not matter.
 */
public record ExactVerifier() implements Verifier {
  @Override
  public Verdict check(Answer answer, String reference) {
    String got = AnswerText.normalize(answer.extracted());
    return got.equals(AnswerText.normalize(reference))
        ? Verdict.correct(got)
        : Verdict.wrong(got, "does not match the reference");
  }
}

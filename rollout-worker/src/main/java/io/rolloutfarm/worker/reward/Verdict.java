package io.rolloutfarm.worker.reward;

/**
 * A verifier's judgement.
 *
 * @param score correctness in [0, 1]
 * @param extracted the answer the verifier compared, after extraction
 * @param note why it scored 0, for people; empty when correct
 */
public record Verdict(double score, String extracted, String note) {
  static Verdict correct(String extracted) {
    return new Verdict(1.0, extracted, "");
  }

  static Verdict wrong(String extracted, String note) {
    return new Verdict(0.0, extracted, note);
  }
}

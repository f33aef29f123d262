package io.rolloutfarm.worker.reward;

import io.rolloutfarm.worker.agent.ResponseParser;
import java.util.Locale;

/** Normalisation shared by the verifiers. */
final class AnswerText {
  private AnswerText() {}

  /**
   * Lower case, whitespace collapsed, surrounding quotes, {@code \text{}} and a final period
   * removed: what "the same answer" means for exact matching.
   */
  static String normalize(String s) {
    String t = unwrap(s).strip();
    if (t.startsWith("\\text{") && t.endsWith("}")) {
      t = t.substring("\\text{".length(), t.length() - 1).strip();
    }
    while (t.endsWith(".")) {
      t = t.substring(0, t.length() - 1).strip();
    }
    return t.replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
  }

  /** The boxed content of a reference written with {@code \boxed{}}, quotes removed. */
  static String unwrap(String s) {
    String t = ResponseParser.lastBoxed(s).orElse(s).strip();
    while (t.length() >= 2
        && ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith("\"") && t.endsWith("\"")))) {
      t = t.substring(1, t.length() - 1).strip();
    }
    return t;
  }
}

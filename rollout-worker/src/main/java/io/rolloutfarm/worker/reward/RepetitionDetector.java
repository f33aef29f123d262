package io.rolloutfarm.worker.reward;

import java.util.HashMap;
import java.util.Map;

/**
 * Finds degenerate repetition in generated text: a short pattern repeated back to back (the
 * "abcabcabc…" loop of a collapsing policy), or one 8-word phrase written again and again.
 */
public final class RepetitionDetector {
  static final int MAX_PERIOD = 64;
  static final int MIN_RUN_CHARS = 200;
  static final int NGRAM = 8;
  static final int NGRAM_REPEATS = 6;

  private RepetitionDetector() {}

  /** True when the text repeats itself degenerately. */
  public static boolean isRepetitive(String text) {
    return hasPeriodicRun(text) || hasRepeatedPhrase(text);
  }

  /** A stretch of at least max(200, 10p) characters with period p <= 64. */
  static boolean hasPeriodicRun(String text) {
    int n = text.length();
    for (int p = 1; p <= MAX_PERIOD && p < n; p++) {
      int need = Math.max(MIN_RUN_CHARS, 10 * p) - p;
      int run = 0;
      for (int i = 0; i + p < n; i++) {
        if (text.charAt(i) == text.charAt(i + p)) {
          if (++run >= need) {
            return true;
          }
        } else {
          run = 0;
        }
      }
    }
    return false;
  }

  static boolean hasRepeatedPhrase(String text) {
    String[] words = text.strip().split("\\s+");
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i + NGRAM <= words.length; i++) {
      String key = String.join(" ", java.util.Arrays.copyOfRange(words, i, i + NGRAM));
      if (counts.merge(key, 1, Integer::sum) >= NGRAM_REPEATS) {
        return true;
      }
    }
    return false;
  }
}

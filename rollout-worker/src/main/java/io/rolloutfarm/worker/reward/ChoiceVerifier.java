package io.rolloutfarm.worker.reward;

import io.rolloutfarm.worker.agent.ResponseParser.Answer;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Multiple-choice letter: {@code B}, {@code (B)}, {@code B.}, {@code B) the text}, {@code Option B}
 * or {@code The answer is B} all read as B; case does not matter.
 */
public record ChoiceVerifier() implements Verifier {
  private static final Pattern LEADING =
      Pattern.compile("^\\(?([A-Za-z])\\)?(?:[.:)]|\\s|$)(?:.*)$", Pattern.DOTALL);
  private static final Pattern PHRASE =
      Pattern.compile("(?i)(?:answer is|option|choice)\\s*:?\\s*\\(?([A-Za-z])\\)?(?![A-Za-z])");

  @Override
  public Verdict check(Answer answer, String reference) {
    Optional<String> got = letter(AnswerText.unwrap(answer.extracted()));
    Optional<String> ref = letter(AnswerText.unwrap(reference));
    if (ref.isEmpty()) {
      return Verdict.wrong(answer.extracted(), "the reference '" + reference + "' is not a letter");
    }
    if (got.isEmpty()) {
      return Verdict.wrong(answer.extracted(), "no choice letter in the answer");
    }
    return got.equals(ref)
        ? Verdict.correct(got.get())
        : Verdict.wrong(got.get(), "chose " + got.get() + ", reference " + ref.get());
  }

  static Optional<String> letter(String text) {
    String t = text.strip();
    Matcher phrase = PHRASE.matcher(t);
    if (phrase.find()) {
      return Optional.of(phrase.group(1).toUpperCase(Locale.ROOT));
    }
    Matcher leading = LEADING.matcher(t);
    if (leading.matches()) {
      return Optional.of(leading.group(1).toUpperCase(Locale.ROOT));
    }
    return Optional.empty();
  }
}

package io.rolloutfarm.worker.reward;

import io.rolloutfarm.worker.agent.ResponseParser.Answer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Numeric match: {@code |answer - reference| <= tolerance * max(1, |reference|)}. The answer must
 * hold exactly one number (thousands separators, {@code $}, {@code %} and units around it are
 * ignored; {@code a/b} fractions are read); an answer with several numbers is a hedge and scores 0.
 */
public record NumericVerifier(double tolerance) implements Verifier {
  private static final Pattern NUMBER =
      Pattern.compile(
          "[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?(?:\\s*/\\s*\\d+(?:\\.\\d+)?)?");

  public NumericVerifier {
    if (!(tolerance >= 0)) {
      throw new IllegalArgumentException("numeric tolerance must be >= 0, got " + tolerance);
    }
  }

  @Override
  public Verdict check(Answer answer, String reference) {
    String text = AnswerText.unwrap(answer.extracted());
    OptionalDouble ref = parse(AnswerText.unwrap(reference));
    if (ref.isEmpty()) {
      return Verdict.wrong(text, "the reference answer '" + reference + "' is not one number");
    }
    List<Double> found = numbers(text);
    if (found.size() != 1) {
      return Verdict.wrong(
          text, found.isEmpty() ? "no number in the answer" : "several numbers in the answer");
    }
    double got = found.get(0);
    double r = ref.getAsDouble();
    double allowed = tolerance * Math.max(1.0, Math.abs(r)) + 1e-9;
    return Math.abs(got - r) <= allowed
        ? Verdict.correct(text)
        : Verdict.wrong(text, "off by " + Math.abs(got - r));
  }

  static OptionalDouble parse(String text) {
    List<Double> found = numbers(text);
    return found.size() == 1 ? OptionalDouble.of(found.get(0)) : OptionalDouble.empty();
  }

  private static List<Double> numbers(String text) {
    // Thousands separators: 1,234,567 -> 1234567 (a comma followed by exactly three digits).
    String cleaned = text.replaceAll("(?<=\\d),(?=\\d{3}(?!\\d))", "");
    List<Double> out = new ArrayList<>();
    Matcher m = NUMBER.matcher(cleaned);
    while (m.find()) {
      String s = m.group().replace(" ", "");
      int slash = s.indexOf('/');
      if (slash >= 0) {
        double den = Double.parseDouble(s.substring(slash + 1));
        out.add(den == 0 ? Double.NaN : Double.parseDouble(s.substring(0, slash)) / den);
      } else {
        out.add(Double.parseDouble(s));
      }
    }
    return out;
  }
}

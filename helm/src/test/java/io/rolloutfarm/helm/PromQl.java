package io.rolloutfarm.helm;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Just enough PromQL reading to find the metrics a query selects and their label matchers. */
final class PromQl {
  /** A metric selector such as {@code m{a="x", b=~"y|z"}}. */
  record Selector(String metric, List<LabelMatcher> matchers) {}

  /** A label matcher: {@code label op "value"}. */
  record LabelMatcher(String label, String op, String value) {}

  private static final Pattern SELECTOR =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)\\}");
  private static final Pattern LABEL_MATCHER =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern GROUPING =
      Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Set<String> KEYWORDS =
      Set.of("by", "without", "on", "ignoring", "bool", "and", "or", "unless", "offset", "inf");

  private PromQl() {}

  /** Names of the metrics an expression reads, in order of appearance. */
  static Set<String> metrics(String expr) {
    String s = expr.replaceAll("\\{[^}]*\\}", " ");
    s = s.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", " ");
    s = s.replaceAll("\\[[^\\]]*\\]", " ");
    s = GROUPING.matcher(s).replaceAll(" ");
    Set<String> out = new LinkedHashSet<>();
    Matcher m = IDENTIFIER.matcher(s);
    while (m.find()) {
      String id = m.group();
      int next = m.end();
      while (next < s.length() && Character.isWhitespace(s.charAt(next))) {
        next++;
      }
      boolean function = next < s.length() && s.charAt(next) == '(';
      if (!function && !KEYWORDS.contains(id) && !id.matches("\\d.*")) {
        out.add(id);
      }
    }
    return out;
  }

  /** The selectors with label matchers in an expression. */
  static List<Selector> selectors(String expr) {
    List<Selector> out = new ArrayList<>();
    Matcher m = SELECTOR.matcher(expr);
    while (m.find()) {
      List<LabelMatcher> matchers = new ArrayList<>();
      Matcher lm = LABEL_MATCHER.matcher(m.group(2));
      while (lm.find()) {
        matchers.add(new LabelMatcher(lm.group(1), lm.group(2), lm.group(3)));
      }
      out.add(new Selector(m.group(1), matchers));
    }
    return out;
  }
}

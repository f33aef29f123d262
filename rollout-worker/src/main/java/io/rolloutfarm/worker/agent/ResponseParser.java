package io.rolloutfarm.worker.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads one model turn in the PyVision format: code inside {@code <code>} … {@code </code>},
 * usually fenced with {@code ```python}, and a final {@code <answer>…</answer>}.
 *
 * <p>Rules, chosen so that the block a person would see as "the code" is the one executed:
 *
 * <ul>
 *   <li>The last {@code <code>} block with non-empty code is executed; without one, the last {@code
 *       ```python} block anywhere in the text.
 *   <li>A fenced block ends at the first {@code </code>} that directly follows a line holding only
 *       a closing fence, so {@code </code>} or {@code ```} inside Python strings do not end it.
 *   <li>A block whose {@code </code>} never comes (generation cut off) still counts when its fence
 *       was closed; otherwise it is incomplete and ignored.
 *   <li>An answer outside code blocks ends the trajectory; code in the same turn is not run.
 *   <li>{@code \boxed{…}} content is extracted with balanced braces.
 * </ul>
 */
public final class ResponseParser {
  private static final String OPEN = "<code>";
  private static final String CLOSE = "</code>";
  private static final String FENCE = "```";

  private ResponseParser() {}

  /** What a turn contains. */
  public record ParsedTurn(Optional<String> code, Optional<Answer> answer, int codeBlocks) {}

  /**
   * A final answer: the raw text inside {@code <answer>}, the {@code \boxed{}} content when present
   * (else the trimmed raw text), and whether it was well formed (closed tag, boxed content).
   */
  public record Answer(String raw, String extracted, boolean boxed, boolean closed) {}

  private record Block(int start, int end, String code) {}

  /** Parses a turn's generated text. */
  public static ParsedTurn parse(String text) {
    List<Block> blocks = codeBlocks(text);
    Optional<String> code =
        blocks.reversed().stream().map(Block::code).filter(c -> !c.isBlank()).findFirst();
    if (code.isEmpty()) {
      code = lastPythonFence(text, 0, text.length()).filter(c -> !c.isBlank());
    }
    return new ParsedTurn(code, answerOutside(text, blocks), blocks.size());
  }

  private static List<Block> codeBlocks(String text) {
    List<Block> blocks = new ArrayList<>();
    int from = 0;
    while (true) {
      int open = text.indexOf(OPEN, from);
      if (open < 0) {
        return blocks;
      }
      int bodyStart = open + OPEN.length();
      Block block = readBlock(text, open, bodyStart);
      if (block == null) {
        return blocks; // unclosed and unfenced: generation was cut off inside it
      }
      blocks.add(block);
      from = block.end();
    }
  }

  /** Reads the block whose body starts at {@code bodyStart}; null when it never completes. */
  private static Block readBlock(String text, int open, int bodyStart) {
    int fenceOpen = openingFence(text, bodyStart);
    if (fenceOpen >= 0) {
      int codeStart = lineEnd(text, fenceOpen) + 1;
      // The first </code> right after a closing-fence line ends the block.
      for (int close = text.indexOf(CLOSE, codeStart);
          close >= 0;
          close = text.indexOf(CLOSE, close + 1)) {
        int fence = closingFenceBefore(text, codeStart, close);
        if (fence >= 0) {
          return new Block(open, close + CLOSE.length(), text.substring(codeStart, fence));
        }
      }
      // No </code> after a closed fence: accept the block if its fence was closed.
      int fence = lastClosingFence(text, codeStart, text.length());
      if (fence >= 0) {
        int close = text.indexOf(CLOSE, fence);
        int end = close >= 0 ? close + CLOSE.length() : text.length();
        return new Block(open, end, text.substring(codeStart, fence));
      }
      int close = text.indexOf(CLOSE, codeStart);
      if (close < 0) {
        return null;
      }
      // Fence never closed but the tag was: take everything up to the tag.
      return new Block(open, close + CLOSE.length(), text.substring(codeStart, close).strip());
    }
    int close = text.indexOf(CLOSE, bodyStart);
    if (close < 0) {
      return null;
    }
    String body = text.substring(bodyStart, close);
    // Nested opening tags: the innermost body is the code.
    int nested = body.lastIndexOf(OPEN);
    if (nested >= 0) {
      body = body.substring(nested + OPEN.length());
    }
    return new Block(open, close + CLOSE.length(), stripFences(body).strip());
  }

  /** Index of a fence that opens the body (only whitespace before it), or -1. */
  private static int openingFence(String text, int bodyStart) {
    int i = bodyStart;
    while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
      i++;
    }
    return text.startsWith(FENCE, i) ? i : -1;
  }

  /**
   * When the text between {@code codeStart} and {@code close} ends with a line holding only a fence
   * (whitespace aside), the index where that fence line starts; else -1.
   */
  private static int closingFenceBefore(String text, int codeStart, int close) {
    int i = close;
    while (i > codeStart && Character.isWhitespace(text.charAt(i - 1))) {
      i--;
    }
    if (i - FENCE.length() < codeStart || !text.startsWith(FENCE, i - FENCE.length())) {
      return -1;
    }
    int fence = i - FENCE.length();
    int lineStart = fence;
    while (lineStart > codeStart && text.charAt(lineStart - 1) != '\n') {
      if (!Character.isWhitespace(text.charAt(lineStart - 1))) {
        return -1;
      }
      lineStart--;
    }
    return lineStart == codeStart || text.charAt(lineStart - 1) == '\n' ? lineStart : -1;
  }

  /** Start of the last line in [from, to) that holds only a fence, or -1. */
  private static int lastClosingFence(String text, int from, int to) {
    int found = -1;
    int lineStart = from;
    while (lineStart < to) {
      int end = Math.min(lineEnd(text, lineStart), to);
      if (text.substring(lineStart, end).strip().equals(FENCE)) {
        found = lineStart;
      }
      lineStart = end + 1;
    }
    return found;
  }

  /** The last {@code ```python} block in [from, to), closed by a fence-only line. */
  static Optional<String> lastPythonFence(String text, int from, int to) {
    String result = null;
    int i = from;
    while (true) {
      int open = text.indexOf(FENCE + "python", i);
      if (open < 0 || open >= to) {
        break;
      }
      int codeStart = lineEnd(text, open) + 1;
      if (codeStart > to) {
        break;
      }
      int close = firstClosingFence(text, codeStart, to);
      if (close < 0) {
        break;
      }
      result = text.substring(codeStart, close);
      i = lineEnd(text, close) + 1;
    }
    return Optional.ofNullable(result);
  }

  private static int firstClosingFence(String text, int from, int to) {
    int lineStart = from;
    while (lineStart < to) {
      int end = Math.min(lineEnd(text, lineStart), to);
      if (text.substring(lineStart, end).strip().equals(FENCE)) {
        return lineStart;
      }
      lineStart = end + 1;
    }
    return -1;
  }

  private static String stripFences(String body) {
    String s = body.strip();
    if (s.startsWith(FENCE)) {
      s = s.substring(lineEnd(s, 0) + 1 > s.length() ? s.length() : lineEnd(s, 0) + 1);
      if (s.stripTrailing().endsWith(FENCE)) {
        s = s.stripTrailing();
        s = s.substring(0, s.length() - FENCE.length());
      }
    }
    return s;
  }

  private static int lineEnd(String text, int from) {
    int nl = text.indexOf('\n', from);
    return nl < 0 ? text.length() : nl;
  }

  /** The last {@code <answer>} that does not lie inside a code block. */
  private static Optional<Answer> answerOutside(String text, List<Block> blocks) {
    Answer found = null;
    int from = 0;
    while (true) {
      int open = text.indexOf("<answer>", from);
      if (open < 0) {
        break;
      }
      int at = open;
      boolean insideCode = blocks.stream().anyMatch(b -> at > b.start() && at < b.end());
      int bodyStart = open + "<answer>".length();
      int close = text.indexOf("</answer>", bodyStart);
      from = close < 0 ? text.length() : close + "</answer>".length();
      if (insideCode) {
        continue;
      }
      String raw = close < 0 ? text.substring(bodyStart) : text.substring(bodyStart, close);
      Optional<String> boxed = lastBoxed(raw);
      found = new Answer(raw, boxed.orElse(raw.strip()).strip(), boxed.isPresent(), close >= 0);
    }
    return Optional.ofNullable(found);
  }

  /** The content of the last {@code \boxed{…}} in the text, braces balanced. */
  public static Optional<String> lastBoxed(String text) {
    String result = null;
    int from = 0;
    while (true) {
      int start = text.indexOf("\\boxed{", from);
      if (start < 0) {
        return Optional.ofNullable(result);
      }
      int i = start + "\\boxed{".length();
      int depth = 1;
      int j = i;
      while (j < text.length() && depth > 0) {
        char c = text.charAt(j);
        if (c == '{') {
          depth++;
        } else if (c == '}') {
          depth--;
        }
        j++;
      }
      if (depth == 0) {
        result = text.substring(i, j - 1);
      }
      from = i;
    }
  }
}

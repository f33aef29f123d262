package io.rolloutfarm.worker.policy;

import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.worker.agent.Context;
import io.rolloutfarm.worker.agent.Context.Role;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Replays responses from a file, one per turn: turn {@code t} of every trajectory gets response
 * {@code t}. Responses are separated by a line holding only {@code ----}. For tests and for people
 * debugging prompts or sandboxes.
 *
 * <p>Replies are treated like real generations: they are cut after the first stop string (the stop
 * string kept) and at {@code maxNewTokens}. Tokens come from the {@link ByteTokenizer}; their
 * logprobs are 0 and the policy reports itself as not trainable.
 */
public final class ScriptedPolicy implements Policy {
  private static final PolicyFacts FACTS =
      new PolicyFacts(
          "scripted", 0, ByteTokenizer.IMAGE_TOKEN, ByteTokenizer.EOS_TOKEN, 0, 1, false);

  private final List<String> responses;
  private final String origin;

  public ScriptedPolicy(List<String> responses, String origin) {
    if (responses.isEmpty()) {
      throw new IllegalArgumentException(origin + ": no responses");
    }
    this.responses = List.copyOf(responses);
    this.origin = origin;
  }

  /** Reads a responses file. */
  public static ScriptedPolicy load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": responses file not found", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    return new ScriptedPolicy(split(text), "scripted:" + file);
  }

  /** Splits a responses file at lines holding only {@code ----}. */
  public static List<String> split(String text) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.split("\\R", -1)) {
      if (line.equals("----")) {
        out.add(trimNewlines(current.toString()));
        current.setLength(0);
      } else {
        current.append(line).append('\n');
      }
    }
    String last = trimNewlines(current.toString());
    if (!last.isEmpty() || out.isEmpty()) {
      out.add(last);
    }
    return out.stream().filter(s -> !s.isEmpty()).toList();
  }

  private static String trimNewlines(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && s.charAt(start) == '\n') {
      start++;
    }
    while (end > start && s.charAt(end - 1) == '\n') {
      end--;
    }
    return s.substring(start, end);
  }

  /** The responses, in order. */
  public List<String> responses() {
    return responses;
  }

  @Override
  public PolicyFacts facts() {
    return FACTS;
  }

  @Override
  public int[] tokenize(String text) {
    return ByteTokenizer.encode(text);
  }

  @Override
  public Generation generate(Context context, Sampling sampling, String requestId)
      throws PolicyFailure {
    int turn = (int) context.messages().stream().filter(m -> m.role() == Role.ASSISTANT).count();
    if (turn >= responses.size()) {
      throw new PolicyFailure(
          origin
              + " has "
              + responses.size()
              + " responses; turn "
              + (turn + 1)
              + " needs another (add one after a '----' line)",
          null,
          false);
    }
    String text = responses.get(turn);
    FinishReason finish = FinishReason.FINISH_REASON_EOS;
    int cut = -1;
    for (String stop : sampling.stop()) {
      int at = text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at + stop.length() < cut)) {
        cut = at + stop.length();
      }
    }
    if (cut >= 0) {
      text = text.substring(0, cut);
      finish = FinishReason.FINISH_REASON_STOP;
    }
    int[] ids = ByteTokenizer.encode(text);
    if (sampling.maxNewTokens() > 0 && ids.length > sampling.maxNewTokens()) {
      ids = java.util.Arrays.copyOf(ids, sampling.maxNewTokens());
      text = ByteTokenizer.decode(ids);
      finish = FinishReason.FINISH_REASON_LENGTH;
    }
    return new Generation(ids, new float[ids.length], text, 0, finish);
  }

  @Override
  public String describe() {
    return origin;
  }
}

package io.rolloutfarm.worker.agent;

import io.rolloutfarm.worker.agent.Context.Piece;
import io.rolloutfarm.worker.agent.Context.Text;
import java.util.ArrayList;
import java.util.List;

/**
 * How messages become one token stream for token-in/token-out policies. Chat-completions endpoints
 * get the messages themselves and ignore this.
 */
public enum ChatFormat {
  /**
   * No markup: system text, a blank line, the user text, a newline; observations follow the
   * generated code directly. For the built-in small model, whose contexts are a few hundred tokens.
   */
  PLAIN("", "\n\n", "\n", "", "\n"),
  /**
   * ChatML ({@code <|im_start|>role … <|im_end|>}), as used by Qwen-family vision-language models
   * and released PyVision checkpoints; observations are user messages.
   */
  CHATML(
      "<|im_start|>system\n",
      "<|im_end|>\n<|im_start|>user\n",
      "<|im_end|>\n<|im_start|>assistant\n",
      "<|im_end|>\n<|im_start|>user\n",
      "<|im_end|>\n<|im_start|>assistant\n");

  private final String beforeSystem;
  private final String betweenSystemAndUser;
  private final String afterUser;
  private final String beforeObservation;
  private final String afterObservation;

  ChatFormat(
      String beforeSystem,
      String betweenSystemAndUser,
      String afterUser,
      String beforeObservation,
      String afterObservation) {
    this.beforeSystem = beforeSystem;
    this.betweenSystemAndUser = betweenSystemAndUser;
    this.afterUser = afterUser;
    this.beforeObservation = beforeObservation;
    this.afterObservation = afterObservation;
  }

  /** The prompt as it enters the token stream, ending where the model starts writing. */
  public List<Piece> prompt(List<Piece> system, List<Piece> user) {
    List<Piece> out = new ArrayList<>();
    if (!system.isEmpty()) {
      out.add(new Text(beforeSystem));
      out.addAll(system);
      out.add(new Text(betweenSystemAndUser));
    } else if (this == CHATML) {
      out.add(new Text("<|im_start|>user\n"));
    }
    out.addAll(user);
    out.add(new Text(afterUser));
    return out;
  }

  /** An observation as it enters the token stream after a generated turn. */
  public List<Piece> observation(List<Piece> observation) {
    List<Piece> out = new ArrayList<>();
    out.add(new Text(beforeObservation));
    out.addAll(observation);
    out.add(new Text(afterObservation));
    return out;
  }
}

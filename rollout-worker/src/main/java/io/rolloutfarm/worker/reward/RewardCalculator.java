package io.rolloutfarm.worker.reward;

import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.RewardBreakdown;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.worker.agent.ResponseParser.Answer;
import java.util.Optional;

/**
 * Scores a finished trajectory. Infrastructure failures are never scored; callers do not ask.
 *
 * <p>Plain rules: {@code R = R_acc + c * n_toolcalls * 1[R_acc = 1]}, the bonus optionally capped.
 * An answer longer than {@code maxAnswerChars} scores 0 (a model that lists every candidate must
 * not collect the reward).
 *
 * <p>Hierarchical rules (VISTA-R1 style), checked in order:
 *
 * <ol>
 *   <li>degenerate repetition in the generated text: {@code R = } {@value #REPETITION_PENALTY};
 *   <li>invalid format (a turn with neither code nor answer, or an answer without a closed {@code
 *       <answer>} tag and {@code \boxed{}}): {@code R = } {@value #FORMAT_PENALTY};
 *   <li>otherwise the plain rules.
 * </ol>
 */
public final class RewardCalculator {
  /** Reward of a repetitive trajectory under the hierarchical rules. */
  public static final double REPETITION_PENALTY = -1.0;

  /** Reward of a badly formatted trajectory under the hierarchical rules. */
  public static final double FORMAT_PENALTY = -0.5;

  private final RewardRules rules;

  public RewardCalculator(RewardRules rules) {
    this.rules = rules;
  }

  /**
   * @param generatedText every turn's generated text, concatenated (for repetition checks)
   */
  public RewardBreakdown score(
      Task task, EndReason reason, Optional<Answer> answer, int toolCalls, String generatedText) {
    if (reason == EndReason.END_REASON_SANDBOX_FAILURE
        || reason == EndReason.END_REASON_POLICY_FAILURE) {
      throw new IllegalArgumentException("infrastructure failures are never scored: " + reason);
    }
    RewardBreakdown.Builder out = RewardBreakdown.newBuilder();
    if (rules.hierarchical()) {
      if (RepetitionDetector.isRepetitive(generatedText)) {
        return out.setRepetitionPenalty(REPETITION_PENALTY)
            .setTotal(REPETITION_PENALTY)
            .setExtractedAnswer(answer.map(Answer::extracted).orElse(""))
            .setNote("repetitive output")
            .build();
      }
      boolean badFormat =
          reason == EndReason.END_REASON_FORMAT_ERROR
              || (reason == EndReason.END_REASON_DONE
                  && answer.map(a -> !a.closed() || !a.boxed()).orElse(true));
      if (badFormat) {
        return out.setFormat(FORMAT_PENALTY)
            .setTotal(FORMAT_PENALTY)
            .setExtractedAnswer(answer.map(Answer::extracted).orElse(""))
            .setNote("invalid format")
            .build();
      }
    }
    double accuracy = 0;
    String note;
    String extracted = answer.map(Answer::extracted).orElse("");
    if (reason != EndReason.END_REASON_DONE || answer.isEmpty()) {
      note = "no answer: " + reason.name().substring("END_REASON_".length());
    } else if (answer.get().raw().length() > rules.maxAnswerChars()) {
      note =
          "answer of "
              + answer.get().raw().length()
              + " characters exceeds maxAnswerChars "
              + rules.maxAnswerChars();
    } else {
      Verdict verdict = Verifiers.of(task.getVerifier()).check(answer.get(), task.getAnswer());
      accuracy = verdict.score();
      extracted = verdict.extracted();
      note = verdict.note();
    }
    double bonus = accuracy == 1.0 ? rules.toolBonus() * toolCalls : 0.0;
    if (rules.toolBonusCap() != null) {
      bonus = Math.min(bonus, rules.toolBonusCap());
    }
    return out.setAccuracy(accuracy)
        .setToolBonus(bonus)
        .setTotal(accuracy + bonus)
        .setExtractedAnswer(extracted)
        .setNote(note)
        .build();
  }
}

package io.rolloutfarm.worker.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.RewardBreakdown;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.worker.agent.ResponseParser;
import io.rolloutfarm.worker.agent.ResponseParser.Answer;
import io.rolloutfarm.worker.testing.Tasks;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RewardTest {
  private static Answer answer(String turnText) {
    return ResponseParser.parse(turnText).answer().orElseThrow();
  }

  private static double verify(Verifier v, String answerTag, String reference) {
    return v.check(answer("<answer>" + answerTag + "</answer>"), reference).score();
  }

  @Test
  void exactIgnoresCaseSpacingQuotesAndFinalPeriod() {
    Verifier v = new ExactVerifier();
    assertThat(verify(v, "\\boxed{'Red  Car.'}", "red car")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{\\text{red car}}", "red car")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{blue car}", "red car")).isEqualTo(0.0);
  }

  @Test
  void numericUsesRelativeToleranceOfTheReference() {
    Verifier v = new NumericVerifier(0.01);
    assertThat(verify(v, "\\boxed{100.9}", "100")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{101.5}", "100")).isEqualTo(0.0);
    // Below 1 the tolerance is absolute: 0.01 * max(1, |0.5|).
    assertThat(verify(v, "\\boxed{0.509}", "0.5")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{1,234}", "1234")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{1/4}", "0.25")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{12 px}", "12")).isEqualTo(1.0);
  }

  @Test
  void numericRejectsHedgesAndNonNumbers() {
    Verifier v = new NumericVerifier(0);
    assertThat(v.check(answer("<answer>\\boxed{3 or 4}</answer>"), "3").note())
        .contains("several numbers");
    assertThat(verify(v, "\\boxed{three}", "3")).isEqualTo(0.0);
    assertThat(verify(v, "\\boxed{3}", "3")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{3.0001}", "3")).isEqualTo(0.0);
  }

  @Test
  void choiceReadsTheLetterInItsUsualSpellings() {
    Verifier v = new ChoiceVerifier();
    assertThat(verify(v, "\\boxed{B}", "B")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{(b)}", "B")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{B. a red car}", "(B)")).isEqualTo(1.0);
    assertThat(verify(v, "The answer is C", "C")).isEqualTo(1.0);
    assertThat(verify(v, "\\boxed{A}", "B")).isEqualTo(0.0);
    assertThat(verify(v, "\\boxed{none}", "B")).isEqualTo(0.0);
  }

  @Test
  void boxedRequiresTheBoxAndThenMatchesExactly() {
    Verifier v = new BoxedVerifier();
    assertThat(verify(v, "\\boxed{cat}", "cat")).isEqualTo(1.0);
    assertThat(verify(v, "cat", "cat")).isEqualTo(0.0);
    assertThat(verify(v, "\\boxed{dog}", "cat")).isEqualTo(0.0);
  }

  @Test
  void unknownVerifierKindIsNamed() {
    assertThatThrownBy(
            () ->
                Verifiers.of(
                    io.rolloutfarm.proto.v1.Verifier.newBuilder().setKind("fuzzy").build()))
        .hasMessageContaining("unknown verifier kind 'fuzzy'")
        .hasMessageContaining("numeric");
  }

  private static RewardBreakdown score(
      RewardRules rules, Task task, EndReason reason, String text, int tools) {
    Optional<Answer> a = ResponseParser.parse(text).answer();
    return new RewardCalculator(rules).score(task, reason, a, tools, text);
  }

  private static final RewardRules PLAIN = new RewardRules(0.1, null, false, 200);

  @Test
  void toolBonusIsPaidPerCallOnlyOnCorrectAnswers() {
    Task task = Tasks.imageTask("t", "7", "numeric");
    RewardBreakdown right =
        score(PLAIN, task, EndReason.END_REASON_DONE, "<answer>\\boxed{7}</answer>", 3);
    assertThat(right.getAccuracy()).isEqualTo(1.0);
    assertThat(right.getToolBonus()).isCloseTo(0.3, within(1e-12));
    assertThat(right.getTotal()).isCloseTo(1.3, within(1e-12));
    RewardBreakdown wrong =
        score(PLAIN, task, EndReason.END_REASON_DONE, "<answer>\\boxed{8}</answer>", 3);
    assertThat(wrong.getTotal()).isEqualTo(0.0);
    assertThat(wrong.getToolBonus()).isEqualTo(0.0);
    assertThat(wrong.getExtractedAnswer()).isEqualTo("8");
  }

  @Test
  void toolBonusCoefficientAndCapAreConfigurable() {
    Task task = Tasks.imageTask("t", "7", "numeric");
    RewardRules capped = new RewardRules(0.25, 0.4, false, 200);
    assertThat(
            score(capped, task, EndReason.END_REASON_DONE, "<answer>\\boxed{7}</answer>", 1)
                .getToolBonus())
        .isEqualTo(0.25);
    assertThat(
            score(capped, task, EndReason.END_REASON_DONE, "<answer>\\boxed{7}</answer>", 5)
                .getTotal())
        .isCloseTo(1.4, within(1e-12));
    RewardRules none = new RewardRules(0, null, false, 200);
    assertThat(
            score(none, task, EndReason.END_REASON_DONE, "<answer>\\boxed{7}</answer>", 5)
                .getTotal())
        .isEqualTo(1.0);
  }

  @Test
  void absurdlyLongAnswersScoreZero() {
    Task task = Tasks.imageTask("t", "7", "numeric");
    String hedge = "<answer>\\boxed{7}" + " maybe".repeat(50) + "</answer>";
    RewardBreakdown r = score(PLAIN, task, EndReason.END_REASON_DONE, hedge, 2);
    assertThat(r.getTotal()).isEqualTo(0.0);
    assertThat(r.getNote()).contains("exceeds maxAnswerChars 200");
  }

  @Test
  void trajectoriesWithoutAnAnswerScoreZeroAndSayWhy() {
    Task task = Tasks.imageTask("t", "7", "numeric");
    RewardBreakdown r = score(PLAIN, task, EndReason.END_REASON_EXCEED_MAX_TURNS, "", 4);
    assertThat(r.getTotal()).isEqualTo(0.0);
    assertThat(r.getNote()).isEqualTo("no answer: EXCEED_MAX_TURNS");
  }

  @Test
  void infrastructureFailuresAreNeverScored() {
    Task task = Tasks.imageTask("t", "7", "numeric");
    assertThatThrownBy(() -> score(PLAIN, task, EndReason.END_REASON_SANDBOX_FAILURE, "", 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void hierarchicalRewardChecksRepetitionThenFormatThenCorrectness() {
    Task task = Tasks.imageTask("t", "7", "numeric");
    RewardRules h = new RewardRules(0.1, null, true, 200);
    String looping = "abc".repeat(100) + "<answer>\\boxed{7}</answer>";
    RewardBreakdown rep = score(h, task, EndReason.END_REASON_DONE, looping, 1);
    assertThat(rep.getTotal()).isEqualTo(RewardCalculator.REPETITION_PENALTY);
    assertThat(rep.getRepetitionPenalty()).isEqualTo(-1.0);

    RewardBreakdown unboxed = score(h, task, EndReason.END_REASON_DONE, "<answer>7</answer>", 1);
    assertThat(unboxed.getTotal()).isEqualTo(RewardCalculator.FORMAT_PENALTY);
    assertThat(unboxed.getFormat()).isEqualTo(-0.5);

    RewardBreakdown format = score(h, task, EndReason.END_REASON_FORMAT_ERROR, "hello", 0);
    assertThat(format.getTotal()).isEqualTo(RewardCalculator.FORMAT_PENALTY);

    RewardBreakdown good =
        score(h, task, EndReason.END_REASON_DONE, "<answer>\\boxed{7}</answer>", 2);
    assertThat(good.getTotal()).isCloseTo(1.2, within(1e-12));
    assertThat(good.getFormat()).isEqualTo(0.0);
    assertThat(good.getRepetitionPenalty()).isEqualTo(0.0);

    // Without the hierarchy the same unboxed answer is simply correct.
    assertThat(score(PLAIN, task, EndReason.END_REASON_DONE, "<answer>7</answer>", 0).getTotal())
        .isEqualTo(1.0);
  }

  @Test
  void repetitionDetectorFindsLoopsButNotOrdinaryText() {
    assertThat(RepetitionDetector.isRepetitive("ab".repeat(150))).isTrue();
    assertThat(RepetitionDetector.isRepetitive("the red car is here ok now ".repeat(7))).isTrue();
    String ordinary =
        "Let me crop the image and count the red pixels.\n<code>\n```python\n"
            + "import numpy as np\narr = np.array(image_clue_0)\nprint((arr[...,0] > 200).sum())\n"
            + "```\n</code>\nThe count is 12.\n<answer>\\boxed{12}</answer>";
    assertThat(RepetitionDetector.isRepetitive(ordinary)).isFalse();
  }
}

package io.rolloutfarm.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.worker.agent.ResponseParser.ParsedTurn;
import org.junit.jupiter.api.Test;

class ResponseParserTest {
  private static final String F = "```";

  private static String block(String code) {
    return "<code>\n" + F + "python\n" + code + "\n" + F + "\n</code>";
  }

  @Test
  void fencedCodeBlockIsExtractedWithoutFences() {
    ParsedTurn t = ResponseParser.parse("Let me zoom.\n" + block("print(1)\nplt.show()"));
    assertThat(t.code()).contains("print(1)\nplt.show()\n");
    assertThat(t.answer()).isEmpty();
    assertThat(t.codeBlocks()).isEqualTo(1);
  }

  @Test
  void theLastOfSeveralCodeBlocksRuns() {
    ParsedTurn t = ResponseParser.parse(block("a = 1") + "\nthen\n" + block("b = 2"));
    assertThat(t.code()).contains("b = 2\n");
    assertThat(t.codeBlocks()).isEqualTo(2);
  }

  @Test
  void withoutCodeTagsTheLastPythonFenceRuns() {
    String text = "first\n" + F + "python\nx = 1\n" + F + "\nsecond\n" + F + "python\ny = 2\n" + F;
    assertThat(ResponseParser.parse(text).code()).contains("y = 2\n");
  }

  @Test
  void anEmptyLastCodeBlockFallsBackToTheLastNonEmptyOne() {
    ParsedTurn t = ResponseParser.parse(block("x = 1") + block(""));
    assertThat(t.code()).contains("x = 1\n");
  }

  @Test
  void onlyEmptyCodeMeansNoCode() {
    assertThat(ResponseParser.parse("<code>\n" + F + "python\n" + F + "\n</code>").code())
        .isEmpty();
    assertThat(ResponseParser.parse("<code>   </code>").code()).isEmpty();
  }

  @Test
  void closingCodeTagInsideAPythonStringDoesNotEndTheBlock() {
    String code = "s = \"</code>\"\nprint(s)";
    assertThat(ResponseParser.parse(block(code)).code()).contains(code + "\n");
  }

  @Test
  void tripleBackticksInsideAPythonStringDoNotEndTheBlock() {
    String code =
        "fence = '" + F + "'\nmd = \"\"\"\n" + F + "\ncode\n" + F + "\n\"\"\"\nprint(fence)";
    assertThat(ResponseParser.parse(block(code)).code()).contains(code + "\n");
  }

  @Test
  void generationStoppedInsideAStringLeavesTheCutCodeForTheSandboxToReject() {
    // A real model stops at the first </code>, even inside a string; the code then ends there
    // and the sandbox reports the syntax error to the model.
    String cut = "<code>\n" + F + "python\nprint(\"</code>";
    assertThat(ResponseParser.parse(cut).code()).contains("print(\"");
  }

  @Test
  void unclosedCodeWithoutAClosedFenceIsIgnored() {
    assertThat(ResponseParser.parse("<code>\n" + F + "python\nprint(1)").code()).isEmpty();
    assertThat(ResponseParser.parse("<code>print(1)").code()).isEmpty();
  }

  @Test
  void unclosedCodeTagWithAClosedFenceStillCounts() {
    assertThat(ResponseParser.parse("<code>\n" + F + "python\nprint(1)\n" + F + "\n").code())
        .contains("print(1)\n");
  }

  @Test
  void nestedCodeTagsRunTheInnermostBody() {
    assertThat(ResponseParser.parse("<code>outer <code>print(2)</code></code>").code())
        .contains("print(2)");
  }

  @Test
  void unfencedCodeInsideTagsIsTaken() {
    assertThat(ResponseParser.parse("<code>\nprint('hi')\n</code>").code()).contains("print('hi')");
  }

  @Test
  void answerWithBoxedContentIsExtracted() {
    ParsedTurn t = ResponseParser.parse("So it is 3.\n<answer>\n\\boxed{3}\n</answer>");
    assertThat(t.answer()).isPresent();
    assertThat(t.answer().get().extracted()).isEqualTo("3");
    assertThat(t.answer().get().boxed()).isTrue();
    assertThat(t.answer().get().closed()).isTrue();
  }

  @Test
  void boxedContentKeepsNestedBraces() {
    ParsedTurn t = ResponseParser.parse("<answer>\\boxed{\\frac{1}{2}}</answer>");
    assertThat(t.answer().get().extracted()).isEqualTo("\\frac{1}{2}");
  }

  @Test
  void answerWithoutBoxedIsTheTrimmedText() {
    ParsedTurn t = ResponseParser.parse("<answer> B </answer>");
    assertThat(t.answer().get().extracted()).isEqualTo("B");
    assertThat(t.answer().get().boxed()).isFalse();
  }

  @Test
  void unclosedAnswerIsReportedAsNotClosed() {
    ParsedTurn t = ResponseParser.parse("<answer>\\boxed{4}");
    assertThat(t.answer().get().closed()).isFalse();
    assertThat(t.answer().get().extracted()).isEqualTo("4");
  }

  @Test
  void answerAndCodeInTheSameTurnYieldBoth() {
    ParsedTurn t = ResponseParser.parse(block("print(1)") + "\n<answer>\\boxed{1}</answer>");
    assertThat(t.code()).contains("print(1)\n");
    assertThat(t.answer().get().extracted()).isEqualTo("1");
  }

  @Test
  void answerTagsInsideCodeAreNotAnAnswer() {
    ParsedTurn t = ResponseParser.parse(block("print('<answer>\\\\boxed{9}</answer>')"));
    assertThat(t.answer()).isEmpty();
    assertThat(t.code()).isPresent();
  }

  @Test
  void unicodeSurvivesExtraction() {
    String code = "print('größe: 猫 🐱')";
    ParsedTurn t =
        ResponseParser.parse("Überlegung…\n" + block(code) + "<answer>\\boxed{猫}</answer>");
    assertThat(t.code()).contains(code + "\n");
    assertThat(t.answer().get().extracted()).isEqualTo("猫");
  }

  @Test
  void plainTextHasNeitherCodeNorAnswer() {
    ParsedTurn t = ResponseParser.parse("I think the answer is 3.");
    assertThat(t.code()).isEmpty();
    assertThat(t.answer()).isEmpty();
  }
}

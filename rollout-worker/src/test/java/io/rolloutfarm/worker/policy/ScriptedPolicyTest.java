package io.rolloutfarm.worker.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.worker.agent.Context;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScriptedPolicyTest {
  @Test
  void responsesAreSeparatedByLinesHoldingOnlyFourDashes() {
    assertThat(
            ScriptedPolicy.split(
                "first\nline two\n----\n\nsecond ---- not a separator\n----\nthird\n"))
        .containsExactly("first\nline two", "second ---- not a separator", "third");
    assertThat(ScriptedPolicy.split("one\r\n----\r\ntwo")).containsExactly("one", "two");
  }

  @Test
  void generationsStopAfterTheStopStringAndAtTheTokenLimit() throws Exception {
    ScriptedPolicy p = new ScriptedPolicy(List.of("a <code>x</code> trailing"), "t");
    Generation g = p.generate(new Context(1), new Sampling(1, 1, 100, List.of("</code>"), 0), "r");
    assertThat(g.text()).isEqualTo("a <code>x</code>");
    assertThat(g.finish()).isEqualTo(FinishReason.FINISH_REASON_STOP);
    Generation cut = p.generate(new Context(1), new Sampling(1, 1, 4, List.of(), 0), "r");
    assertThat(cut.text()).isEqualTo("a <c");
    assertThat(cut.finish()).isEqualTo(FinishReason.FINISH_REASON_LENGTH);
    assertThat(ByteTokenizer.decode(cut.tokenIds())).isEqualTo("a <c");
  }

  @Test
  void missingFileIsNamed() {
    assertThatThrownBy(() -> ScriptedPolicy.load(Path.of("/no/such/responses.txt")))
        .hasMessageContaining("/no/such/responses.txt: responses file not found");
  }

  @Test
  void byteTokenizerRoundTripsUnicode() {
    String s = "größe 猫 🐱";
    assertThat(ByteTokenizer.decode(ByteTokenizer.encode(s))).isEqualTo(s);
  }
}

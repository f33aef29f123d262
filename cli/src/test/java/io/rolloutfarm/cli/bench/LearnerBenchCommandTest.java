package io.rolloutfarm.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rolloutfarm.cli.FarmCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code farm bench learner} at a toy size: the table, and the JSON with exactly its keys. */
@Timeout(300)
class LearnerBenchCommandTest {
  @TempDir Path dir;

  @Test
  void printsTheTableAndWritesTheJsonFigures() throws Exception {
    Path json = dir.resolve("out/learner.json");
    CommandLine cl = FarmCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit =
        cl.execute(
            "bench",
            "learner",
            "--json",
            json.toString(),
            "--model",
            "builtin:{\"d_model\":32,\"n_layers\":1,\"n_heads\":2,\"d_ff\":64,"
                + "\"max_context\":64,\"image_size\":16,\"patch_size\":8}",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--batch",
            "2",
            "--prompt-tokens",
            "16",
            "--new-tokens",
            "4",
            "--train-tokens",
            "16",
            "--groups",
            "300",
            "--ofr-warm-up-ms",
            "50",
            "--repeats",
            "1");
    assertThat(exit).as("stderr: %s", err).isZero();
    assertThat(out.toString())
        .contains("train step tokens/s")
        .contains("sample tokens/s (batch 2)")
        .contains("same requests one at a time")
        .contains("same batch without KV cache")
        .contains("OFR ms per 1,000 groups")
        .contains("naive full sort")
        .contains("on cpu")
        .contains("model FLOP utilisation is reported on CUDA only");

    JsonNode figures = new ObjectMapper().readTree(json.toFile());
    List<String> keys = new ArrayList<>();
    figures.fieldNames().forEachRemaining(keys::add);
    // mfu only on CUDA.
    assertThat(keys)
        .containsExactly(
            "train_tokens_per_s", "sample_tokens_per_s", "ofr_ms_per_1000_groups", "device");
    assertThat(figures.get("train_tokens_per_s").asDouble()).isPositive();
    assertThat(figures.get("sample_tokens_per_s").asDouble()).isPositive();
    assertThat(figures.get("ofr_ms_per_1000_groups").asDouble()).isPositive();
    assertThat(figures.get("device").asText()).isEqualTo("cpu");
  }

  @Test
  void badSizesAreRejectedBeforeAnythingRuns() {
    CommandLine cl = FarmCommand.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    assertThat(cl.execute("bench", "learner", "--batch", "0")).isEqualTo(1);
    assertThat(err.toString()).contains("--batch");
  }
}

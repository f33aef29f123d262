package io.rolloutfarm.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportTest {

  private static Map<String, Double> step(double reward, double tools, double filtered) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(RunReport.REWARD_MEAN, reward);
    m.put(RunReport.TOOL_CALLS, tools);
    m.put(RunReport.FILTER_RATIO_PREFIX + "zero_reward_std", filtered);
    m.put(RunReport.TRAJECTORIES_PER_S, 40.0);
    return m;
  }

  @Test
  void writesJsonlCsvPlotsAndASummaryComputedFromTheSteps(@TempDir Path dir) throws Exception {
    Summary summary;
    try (RunReport report = new RunReport(dir)) {
      report.record(0, Map.of(RunReport.HELDOUT_ACCURACY, 0.25));
      for (int s = 1; s <= 20; s++) {
        // Tool calls climb from 1.0 to 2.9 in steps of 0.1.
        report.record(s, step(s / 20.0, 0.9 + s * 0.1, 0.5));
      }
      report.record(20, Map.of(RunReport.HELDOUT_ACCURACY, 0.55));
      summary = report.finish(123.5);
    }

    // 10 % of 20 steps is 2: means of {1.0, 1.1} and {2.8, 2.9}; step 20's second row
    // (the final evaluation) replaced the training row of the same step.
    assertThat(summary.warmupAccuracy()).isEqualTo(0.25);
    assertThat(summary.finalAccuracy()).isEqualTo(0.55);
    assertThat(summary.toolCallsFirst()).isCloseTo(1.05, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(summary.steps()).isEqualTo(20);

    Map<String, Object> json =
        new ObjectMapper()
            .readValue(
                dir.resolve("summary.json").toFile(),
                new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {});
    assertThat(json.keySet())
        .containsExactly(
            "warmup_accuracy",
            "final_accuracy",
            "tool_calls_per_trajectory_first",
            "tool_calls_per_trajectory_last",
            "steps",
            "wall_seconds");
    assertThat(json.get("wall_seconds")).isEqualTo(123.5);

    List<String> csv = Files.readAllLines(dir.resolve("metrics.csv"));
    assertThat(csv.get(0))
        .isEqualTo(
            "step,filter_ratio_zero_reward_std,heldout_accuracy,reward_mean,"
                + "tool_calls_per_trajectory,trajectories_per_s");
    assertThat(csv.get(1)).isEqualTo("0,,0.25,,,");
    assertThat(Files.readAllLines(dir.resolve("metrics.jsonl"))).hasSize(22);

    for (String plot :
        List.of(
            "reward", "heldout_accuracy", "tool_calls", "filter_ratios", "trajectories_per_s")) {
      BufferedImage img = ImageIO.read(dir.resolve(plot + ".png").toFile());
      assertThat(img).as(plot).isNotNull();
      assertThat(img.getWidth()).isEqualTo(800);
    }
  }

  @Test
  void aResumedReportKeepsEarlierStepsAndReplacesRepeatedOnes(@TempDir Path dir) throws Exception {
    try (RunReport report = new RunReport(dir)) {
      report.record(0, Map.of(RunReport.HELDOUT_ACCURACY, 0.2));
      report.record(1, step(0.1, 1, 0.5));
      report.record(2, step(0.2, 1, 0.5));
      report.record(3, step(0.3, 1, 0.5)); // lost: the checkpoint was at step 2
    }
    try (RunReport resumed = new RunReport(dir)) {
      assertThat(resumed.rows()).hasSize(4);
      resumed.record(3, step(0.35, 2, 0.4));
      assertThat(resumed.rows())
          .extracting(RunReport.StepRow::step)
          .containsExactly(0L, 1L, 2L, 3L);
      assertThat(resumed.rows().get(3).metrics().get(RunReport.REWARD_MEAN)).isEqualTo(0.35);
      Summary s = resumed.finish(1);
      assertThat(s.warmupAccuracy()).isEqualTo(0.2);
      assertThat(s.finalAccuracy()).isEqualTo(0.2);
    }
  }
}

package io.rolloutfarm.proto;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Observation;
import io.rolloutfarm.proto.v1.RewardBreakdown;
import io.rolloutfarm.proto.v1.RunPhase;
import io.rolloutfarm.proto.v1.RunStatus;
import io.rolloutfarm.proto.v1.SampleResponse;
import io.rolloutfarm.proto.v1.SampleResult;
import io.rolloutfarm.proto.v1.Timings;
import io.rolloutfarm.proto.v1.TrainSequence;
import io.rolloutfarm.proto.v1.TrainStepRequest;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.Turn;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cross-language contract test: the reference messages built here and, field by field, in {@code
 * src/test/python/contract_peer.py} must decode equal on the other side, both ways.
 */
class ContractTest {

  private static final ByteString PNG =
      ByteString.copyFrom(
          new byte[] {
            (byte) 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, (byte) 0xFF, 0x10
          });

  static Trajectory referenceTrajectory() {
    return Trajectory.newBuilder()
        .setTrajectoryId("traj-7")
        .setTaskId("count-0001#3")
        .setPromptId("count-0001")
        .setGroupIndex(3)
        .setPolicyVersion(42)
        .addAllTokenIds(List.of(1, 2, 3, 250, 9, 10, 11, 12, 13))
        .setPromptTokens(4)
        .addAllLogprobs(List.of(0f, 0f, 0f, 0f, -0.5f, -1.25f, -0.125f, 0f, 0f))
        .addAllLossMask(List.of(0, 0, 0, 0, 1, 1, 1, 0, 0))
        .setEndReason(EndReason.END_REASON_DONE)
        .setAnswer("7")
        .setToolCalls(1)
        .setAttempt(1)
        .setFamily("count")
        .addTurns(
            Turn.newBuilder()
                .setText("Let me count. <code>\n```python\nprint(len(dots))\n```\n</code>")
                .setCode("print(len(dots))")
                .setPolicyVersion(42)
                .setGeneratedStart(4)
                .setGeneratedCount(3)
                .setObservationStart(7)
                .setObservationCount(2)
                .setPolicyMs(12.5)
                .setSandboxMs(0.75)
                .setObservation(
                    Observation.newBuilder()
                        .setStatus(ExecStatus.EXEC_STATUS_OK)
                        .setStdout("7\n")
                        .setImagesDropped(1)
                        .setRendered("<interpreter>Text Result:\n7\n</interpreter> — ünïcödé ✓")
                        .addImages(Image.newBuilder().setPng(PNG).setWidth(640).setHeight(480))))
        .addTurns(
            Turn.newBuilder()
                .setText("<answer>\\boxed{7}</answer>")
                .setPolicyVersion(43)
                .setGeneratedStart(9))
        .setReward(
            RewardBreakdown.newBuilder()
                .setTotal(1.1)
                .setAccuracy(1.0)
                .setToolBonus(0.1)
                .setExtractedAnswer("7")
                .setNote("correct"))
        .setTimings(
            Timings.newBuilder()
                .setStartedUnixMs(1_790_000_000_000L)
                .setFinishedUnixMs(1_790_000_000_321L)
                .setPolicyMs(300.25)
                .setSandboxMs(20.5))
        .build();
  }

  static TrainStepRequest referenceTrainStep() {
    return TrainStepRequest.newBuilder()
        .setLearningRate(1e-4)
        .setClipLow(0.2)
        .setClipHigh(0.2)
        .setMaxGradNorm(1.0)
        .setMiniBatchSize(8)
        .setEpochs(2)
        .setLossAggregation("token-mean")
        .addSequences(
            TrainSequence.newBuilder()
                .addAllTokenIds(List.of(5, 6, 7, 250))
                .addAllLossMask(List.of(0, 1, 1, 0))
                .addAllOldLogprobs(List.of(0f, -0.25f, -2.0f, 0f))
                .setAdvantage(-0.375f)
                .addImages(Image.newBuilder().setPng(PNG).setWidth(1).setHeight(1)))
        .addSequences(
            TrainSequence.newBuilder()
                .addTokenIds(8)
                .addLossMask(1)
                .addOldLogprobs(-3.5f)
                .setAdvantage(0.625f))
        .build();
  }

  static SampleResponse referenceSampleResponse() {
    return SampleResponse.newBuilder()
        .setPolicyVersion(9)
        .setGeneratedTokens(3)
        .setSeconds(0.5)
        .addResults(
            SampleResult.newBuilder()
                .addAllTokenIds(List.of(60, 47, 62))
                .addAllLogprobs(List.of(-0.5f, -0.25f, -4.0f))
                .setText("<a>")
                .setFinishReason(FinishReason.FINISH_REASON_STOP)
                .setMatchedStop("</code>"))
        .build();
  }

  static RunStatus referenceRunStatus() {
    return RunStatus.newBuilder()
        .setPhase(RunPhase.RUN_PHASE_TRAINING)
        .setStep(12)
        .setTotalSteps(100)
        .setPolicyVersion(12)
        .setHealthy(true)
        .setMessage("training")
        .setActiveLeases(64)
        .setTrajectoriesAccepted(3072)
        .setUpdatedUnixMs(1_790_000_000_999L)
        .putAllMetrics(Map.of("reward_mean", 0.5, "tool_calls_per_trajectory", 1.75))
        .build();
  }

  private static final Map<String, Message> REFERENCES =
      Map.of(
          "trajectory", referenceTrajectory(),
          "train_step", referenceTrainStep(),
          "sample_response", referenceSampleResponse(),
          "run_status", referenceRunStatus());

  @Test
  void javaEncodingDecodesEqualInPythonAndPythonEncodingDecodesEqualInJava(@TempDir Path dir)
      throws Exception {
    for (var e : REFERENCES.entrySet()) {
      Files.write(dir.resolve("java-" + e.getKey() + ".bin"), e.getValue().toByteArray());
    }
    String checked = runPeer("check", dir);
    assertThat(checked).contains("contract ok");

    runPeer("write", dir);
    for (var e : REFERENCES.entrySet()) {
      byte[] bytes = Files.readAllBytes(dir.resolve("python-" + e.getKey() + ".bin"));
      Message decoded = e.getValue().getParserForType().parseFrom(bytes);
      assertThat(decoded).as(e.getKey()).isEqualTo(e.getValue());
    }
  }

  @Test
  void unknownFieldsFromANewerPeerSurviveARoundTrip() throws Exception {
    // A newer peer may add fields; an older one must pass them through untouched.
    byte[] withExtra =
        referenceRunStatus().toBuilder()
            .setUnknownFields(
                com.google.protobuf.UnknownFieldSet.newBuilder()
                    .addField(
                        999,
                        com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(5).build())
                    .build())
            .build()
            .toByteArray();
    RunStatus parsed = RunStatus.parseFrom(withExtra);
    assertThat(parsed.getUnknownFields().hasField(999)).isTrue();
    assertThat(parsed.toByteArray()).isEqualTo(withExtra);
  }

  private static String runPeer(String mode, Path dir) throws IOException, InterruptedException {
    Path peer = Path.of("src/test/python/contract_peer.py").toAbsolutePath();
    Process p =
        new ProcessBuilder(PythonPaths.interpreter(), peer.toString(), mode, dir.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("python peer finished").isTrue();
    assertThat(p.exitValue()).as("python peer (" + mode + ") output:\n" + out).isZero();
    return out;
  }
}

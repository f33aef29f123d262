package io.rolloutfarm.learner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rolloutfarm.learner.testing.InProcessEngineLauncher;
import io.rolloutfarm.proto.v1.SampleItem;
import io.rolloutfarm.proto.v1.SampleRequest;
import io.rolloutfarm.proto.v1.TrainSequence;
import io.rolloutfarm.proto.v1.TrainStepRequest;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EngineSupervisorTest {
  @TempDir Path dir;

  private static EngineSupervisor.Options fast(int maxRestarts) {
    return new EngineSupervisor.Options(
        Duration.ofSeconds(10),
        Duration.ofMillis(100),
        Duration.ofMillis(10),
        Duration.ofMillis(40),
        maxRestarts,
        Duration.ofSeconds(5),
        Duration.ofSeconds(5),
        Duration.ofSeconds(5));
  }

  private static TrainStepRequest oneSequence() {
    return TrainStepRequest.newBuilder()
        .setLearningRate(1e-3)
        .addSequences(
            TrainSequence.newBuilder()
                .addTokenIds(1)
                .addTokenIds(2)
                .addLossMask(0)
                .addLossMask(1)
                .addOldLogprobs(0)
                .addOldLogprobs(-1)
                .setAdvantage(1))
        .build();
  }

  @Test
  void restartsACrashedEngineAndReloadsTheLastCheckpoint() throws Exception {
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    try (EngineSupervisor engine = new EngineSupervisor(launcher, fast(3))) {
      assertThat(engine.start().getModelName()).isEqualTo("fake");
      engine.trainStep(oneSequence());
      engine.trainStep(oneSequence());
      Path ck = dir.resolve("ck");
      engine.saveCheckpoint(ck);
      engine.setLastCheckpoint(ck);
      engine.trainStep(oneSequence()); // version 3, lost with the crash

      launcher.crash();
      // An idempotent call rides through the restart.
      SampleRequest sample =
          SampleRequest.newBuilder().addItems(SampleItem.newBuilder().addPromptTokenIds(1)).build();
      assertThat(engine.sample(sample).getPolicyVersion()).isEqualTo(2);
      assertThat(launcher.engines).hasSize(2);
      assertThat(launcher.current().loadedCheckpoints).containsExactly(ck.toString());
      assertThat(engine.restarts()).isEqualTo(1);
      assertThat(engine.healthy()).isTrue();
      assertThat(engine.info().getPolicyVersion()).isEqualTo(2);
    }
  }

  @Test
  void anUpdateInterruptedByACrashIsReportedSoTheCallerCanRepeatIt() throws Exception {
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    try (EngineSupervisor engine = new EngineSupervisor(launcher, fast(3))) {
      engine.start();
      launcher.crash();
      assertThatThrownBy(() -> engine.trainStep(oneSequence()))
          .isInstanceOfSatisfying(
              EngineUnavailableException.class, e -> assertThat(e.permanent()).isFalse());
      assertThat(engine.trainStep(oneSequence()).getPolicyVersion()).isEqualTo(1);
      assertThat(launcher.engines).hasSize(2);
    }
  }

  @Test
  void healthChecksNoticeADeadEngineWithoutAnyCall() throws Exception {
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    try (EngineSupervisor engine = new EngineSupervisor(launcher, fast(3))) {
      engine.start();
      launcher.crash();
      for (int i = 0; i < 200 && launcher.engines.size() < 2; i++) {
        Thread.sleep(25);
      }
      assertThat(launcher.engines).hasSize(2);
      engine.awaitReady(Duration.ofSeconds(5));
      assertThat(engine.healthy()).isTrue();
    }
  }

  @Test
  void givesUpAfterTheBoundedNumberOfFailedRestarts() throws Exception {
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    try (EngineSupervisor engine = new EngineSupervisor(launcher, fast(2))) {
      engine.start();
      launcher.failNextLaunches.set(100);
      launcher.crash();
      for (int i = 0; i < 200 && !engine.failed(); i++) {
        Thread.sleep(25);
      }
      assertThat(engine.failed()).isTrue();
      assertThat(engine.lastFailure()).contains("restart attempt 2 failed");
      assertThatThrownBy(engine::info)
          .isInstanceOfSatisfying(
              EngineUnavailableException.class, e -> assertThat(e.permanent()).isTrue());
    }
  }

  @Test
  void engineErrorsPassThroughWithoutARestart() throws Exception {
    InProcessEngineLauncher launcher = new InProcessEngineLauncher();
    try (EngineSupervisor engine = new EngineSupervisor(launcher, fast(3))) {
      engine.start();
      assertThatThrownBy(() -> engine.trainStep(TrainStepRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
      assertThat(engine.restarts()).isZero();
    }
  }
}

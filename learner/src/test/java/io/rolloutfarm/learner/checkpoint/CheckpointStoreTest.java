package io.rolloutfarm.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rolloutfarm.learner.testing.Trajectories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
  @TempDir Path root;

  private static LearnerState state(long step) {
    LearnerState.GroupRecord open =
        new LearnerState.GroupRecord(
            "p#3",
            "p",
            3,
            false,
            Arrays.asList(StateCodec.encode(Trajectories.scored("p", 0, 1, 2)), null),
            List.of(0, 1));
    return new LearnerState(
        LearnerState.FORMAT,
        step,
        step + 2,
        2,
        1,
        5,
        12,
        13,
        List.of(open),
        List.of(),
        List.of(StateCodec.group(Trajectories.group("c", 9, 2, 1, 0))),
        40,
        Map.of("loss", 0.5));
  }

  @Test
  void savesAtomicallyKeepsTheNewestAndReadsTheLatestBack() throws IOException {
    CheckpointStore store = new CheckpointStore(root, 2);
    assertThat(store.latest()).isEmpty();
    for (long step = 1; step <= 3; step++) {
      store.save(
          state(step), dir -> Files.createDirectories(dir).resolve("w").toFile().createNewFile());
    }
    assertThat(store.complete())
        .extracting(p -> p.getFileName().toString())
        .containsExactly("step-00000002", "step-00000003");
    CheckpointStore.Checkpoint latest = store.latest().orElseThrow();
    assertThat(latest.step()).isEqualTo(3);
    assertThat(latest.engineDirectory().resolve("w")).exists();
    LearnerState s = latest.state();
    assertThat(s).usingRecursiveComparison().isEqualTo(state(3));
    assertThat(StateCodec.open(s.openGroups().get(0)).members().get(0))
        .isEqualTo(Trajectories.scored("p", 0, 1, 2));
    assertThat(StateCodec.open(s.openGroups().get(0)).members().get(1)).isNull();
    assertThat(StateCodec.group(s.carriedGroups().get(0)))
        .isEqualTo(Trajectories.group("c", 9, 2, 1, 0));
  }

  @Test
  void aFailedWriteLeavesNoCheckpointBehind() throws IOException {
    CheckpointStore store = new CheckpointStore(root, 3);
    store.save(state(1), dir -> Files.createDirectories(dir));
    assertThatThrownBy(
            () ->
                store.save(
                    state(2),
                    dir -> {
                      Files.createDirectories(dir);
                      throw new IOException("disk full");
                    }))
        .hasMessageContaining("disk full");
    assertThat(store.latest().orElseThrow().step()).isEqualTo(1);
    try (var files = Files.list(root)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("step-00000001");
    }
  }

  @Test
  void savingTheSameStepAgainReplacesIt() throws IOException {
    CheckpointStore store = new CheckpointStore(root, 3);
    store.save(
        state(4), dir -> Files.createDirectories(dir).resolve("old").toFile().createNewFile());
    store.save(
        state(4), dir -> Files.createDirectories(dir).resolve("new").toFile().createNewFile());
    CheckpointStore.Checkpoint latest = store.latest().orElseThrow();
    assertThat(latest.engineDirectory().resolve("new")).exists();
    assertThat(latest.engineDirectory().resolve("old")).doesNotExist();
    assertThat(store.complete()).hasSize(1);
  }
}

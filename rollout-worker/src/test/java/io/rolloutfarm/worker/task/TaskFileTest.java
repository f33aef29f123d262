package io.rolloutfarm.worker.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.worker.agent.ContextImages;
import io.rolloutfarm.worker.testing.Pngs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskFileTest {
  @TempDir Path dir;

  private Path task(String json) throws Exception {
    return Files.writeString(dir.resolve("task.json"), json);
  }

  @Test
  void readsImagesRelativeToTheFileAndTheVerifier() throws Exception {
    Files.createDirectories(dir.resolve("img"));
    Pngs.write(dir.resolve("img/a.png"), 5, 4);
    Pngs.write(dir.resolve("img/b.jpg"), 8, 6);
    Task t =
        TaskFile.load(
            task(
                """
                {"id": "c1", "question": "How many?", "answer": "3",
                 "images": ["img/a.png", "img/b.jpg"],
                 "verifier": {"kind": "numeric", "tolerance": 0.05}, "family": "count"}
                """));
    assertThat(t.getTaskId()).isEqualTo("c1");
    assertThat(t.getMediaList())
        .extracting(m -> m.getName() + " " + m.getMimeType())
        .containsExactly("image_clue_0 image/png", "image_clue_1 image/jpeg");
    assertThat(t.getVerifier().getKind()).isEqualTo("numeric");
    assertThat(t.getVerifier().getTolerance()).isEqualTo(0.05);
    assertThat(t.getFamily()).isEqualTo("count");
    List<Image> images = ContextImages.of(t);
    assertThat(images).extracting(Image::getWidth).containsExactly(5, 8);
    assertThat(images).extracting(Image::getHeight).containsExactly(4, 6);
  }

  @Test
  void verifierMayBeAKindNameAndDefaultsToExact() throws Exception {
    assertThat(
            TaskFile.load(
                    task(
                        "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"B\",\"verifier\":\"choice\"}"))
                .getVerifier()
                .getKind())
        .isEqualTo("choice");
    assertThat(
            TaskFile.load(task("{\"id\":\"a\",\"question\":\"q\",\"answer\":\"B\"}"))
                .getVerifier()
                .getKind())
        .isEqualTo("exact");
  }

  @Test
  void videoGoesToTheSandboxWithGivenMetadata() throws Exception {
    Files.write(dir.resolve("clip.mp4"), new byte[] {0, 0, 0, 24});
    Task t =
        TaskFile.load(
            task(
                """
                {"id": "v", "question": "q", "answer": "1", "video": "clip.mp4",
                 "video_info": {"frames": 90, "fps": 30, "width": 64, "height": 48}}
                """));
    assertThat(t.getMedia(0).getName()).isEqualTo("video_clue_0");
    assertThat(t.getMedia(0).getMimeType()).isEqualTo("video/mp4");
    assertThat(t.getVideoInfo().getFrameCount()).isEqualTo(90);
    assertThat(ContextImages.of(t)).isEmpty();
  }

  @Test
  void mistakesAreNamed() throws Exception {
    assertThatThrownBy(
            () ->
                TaskFile.load(
                    task("{\"id\":\"a\",\"question\":\"q\",\"answer\":\"1\",\"colour\":1}")))
        .hasMessageContaining("unknown field 'colour'");
    assertThatThrownBy(() -> TaskFile.load(task("{\"id\":\"a\",\"question\":\"q\"}")))
        .hasMessageContaining("answer");
    assertThatThrownBy(
            () ->
                TaskFile.load(
                    task(
                        "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"1\",\"verifier\":\"fuzzy\"}")))
        .hasMessageContaining("verifier: unknown kind 'fuzzy'");
    assertThatThrownBy(
            () ->
                TaskFile.load(
                    task(
                        "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"1\",\"images\":[\"x.png\"]}")))
        .hasMessageContaining("images[0]")
        .hasMessageContaining("x.png not found");
    assertThatThrownBy(
            () ->
                TaskFile.load(
                    task(
                        "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"1\",\"images\":[\"x.gif\"]}")))
        .hasMessageContaining("expected a .png, .jpg or .mp4 file");
    assertThatThrownBy(() -> TaskFile.load(dir.resolve("none.json")))
        .hasMessageContaining("none.json: task file not found");
  }
}

package io.rolloutfarm.learner.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.VideoInfo;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptDatasetTest {
  @TempDir Path dir;

  private Path clip() throws IOException {
    Path video = dir.resolve("media/clip.mp4");
    Files.createDirectories(video.getParent());
    try (InputStream in = getClass().getResourceAsStream("/data/clip.mp4")) {
      Files.copy(in, video);
    }
    return video;
  }

  private void image(String name, String format, int w, int h) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), format, file.toFile());
  }

  @Test
  void readsRecordsWithMediaRelativeToTheFile() throws IOException {
    image("media/a.png", "png", 8, 6);
    image("media/b.jpg", "jpg", 5, 4);
    clip();
    Path file = dir.resolve("train.jsonl");
    Files.writeString(
        file,
        """
        {"id": "count-1", "question": "How many?", "answer": 7, "images": ["media/a.png", "media/b.jpg"], "verifier": {"kind": "numeric", "tolerance": 0.01}, "family": "count", "extra": "ignored"}

        # comments and blank lines are skipped
        {"id": "vid-1", "question": "When?", "answer": "B", "video": "media/clip.mp4", "verifier": "choice"}
        {"id": "vid-2", "question": "When?", "answer": "C", "video": {"path": "media/clip.mp4", "fps": 24}}
        """);
    PromptDataset ds = PromptDataset.load(file);
    assertThat(ds.size()).isEqualTo(3);
    Prompt count = ds.get(0);
    assertThat(count.answer()).isEqualTo("7");
    assertThat(count.verifier().getKind()).isEqualTo("numeric");
    assertThat(count.verifier().getTolerance()).isEqualTo(0.01);
    assertThat(count.family()).isEqualTo("count");

    MediaLoader loader = new MediaLoader(4);
    List<Media> media = loader.media(count);
    assertThat(media).extracting(Media::getName).containsExactly("image_clue_0", "image_clue_1");
    assertThat(media).extracting(Media::getMimeType).containsExactly("image/png", "image/jpeg");
    assertThat(media.get(1).getData().toByteArray())
        .isEqualTo(Files.readAllBytes(dir.resolve("media/b.jpg")));
    // The engine gets PNG for every image, JPEG included.
    List<Image> pngs = loader.trainingImages(count);
    assertThat(pngs).extracting(Image::getWidth).containsExactly(8, 5);
    assertThat(pngs.get(1).getPng().byteAt(1)).isEqualTo((byte) 'P');

    Prompt video = ds.get(1);
    assertThat(video.verifier().getKind()).isEqualTo("choice");
    assertThat(video.videoInfo())
        .isEqualTo(
            VideoInfo.newBuilder().setFrameCount(18).setFps(12).setWidth(40).setHeight(30).build());
    assertThat(loader.media(video))
        .extracting(Media::getName, Media::getMimeType)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("video_clue_0", "video/mp4"));
    assertThat(ds.get(2).videoInfo().getFps()).isEqualTo(24);
    assertThat(ds.get(2).videoInfo().getFrameCount()).isEqualTo(18);
  }

  @Test
  void errorsNameTheLineAndTheField() throws IOException {
    Path file = dir.resolve("bad.jsonl");
    Files.writeString(
        file,
        "{\"id\": \"a\", \"question\": \"q\", \"answer\": \"1\"}\n{\"id\": \"b\", \"answer\": \"1\"}\n");
    assertThatThrownBy(() -> PromptDataset.load(file))
        .hasMessageContaining("bad.jsonl:2: question: required");

    Files.writeString(
        file,
        "{\"id\": \"a\", \"question\": \"q\", \"answer\": \"1\", \"images\": [\"nope.png\"]}\n");
    assertThatThrownBy(() -> PromptDataset.load(file))
        .hasMessageContaining("bad.jsonl:1: images[0]: no such file");

    Files.writeString(
        file, "{\"id\": \"a\", \"question\": \"q\", \"answer\": \"1\", \"verifier\": \"fuzzy\"}\n");
    assertThatThrownBy(() -> PromptDataset.load(file))
        .hasMessageContaining("verifier: unknown kind 'fuzzy'");

    Files.writeString(
        file,
        "{\"id\": \"a\", \"question\": \"q\", \"answer\": \"1\"}\n{\"id\": \"a\", \"question\": \"q\", \"answer\": \"2\"}\n");
    assertThatThrownBy(() -> PromptDataset.load(file)).hasMessageContaining(":2: id: duplicate");

    Files.writeString(file, "{not json\n");
    assertThatThrownBy(() -> PromptDataset.load(file)).hasMessageContaining(":1: not valid JSON");

    Files.writeString(file, "");
    assertThatThrownBy(() -> PromptDataset.load(file)).hasMessageContaining("no records");

    Path notVideo = dir.resolve("fake.mp4");
    Files.writeString(notVideo, "not a video at all");
    Files.writeString(
        file, "{\"id\": \"a\", \"question\": \"q\", \"answer\": \"1\", \"video\": \"fake.mp4\"}\n");
    assertThatThrownBy(() -> PromptDataset.load(file))
        .hasMessageContaining("video: cannot read the video's metadata")
        .hasMessageContaining("give frame_count, fps, width and height");
  }

  @Test
  void mp4ProbeReadsFramesRateAndSize() throws IOException {
    VideoInfo info = Mp4Probe.probe(clip());
    assertThat(info.getFrameCount()).isEqualTo(18);
    assertThat(info.getFps()).isEqualTo(12.0);
    assertThat(info.getWidth()).isEqualTo(40);
    assertThat(info.getHeight()).isEqualTo(30);
  }

  @Test
  void samplerShufflesEachEpochWithTheSeedAndResumesFromItsCursor() throws IOException {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 7; i++) {
      lines
          .append("{\"id\": \"p")
          .append(i)
          .append("\", \"question\": \"q\", \"answer\": \"a\"}\n");
    }
    Path file = dir.resolve("seven.jsonl");
    Files.writeString(file, lines);
    PromptDataset ds = PromptDataset.load(file);

    List<String> first = draw(new PromptSampler(ds, 42), 21);
    assertThat(draw(new PromptSampler(ds, 42), 21)).isEqualTo(first);
    assertThat(draw(new PromptSampler(ds, 43), 21)).isNotEqualTo(first);
    for (int epoch = 0; epoch < 3; epoch++) {
      Set<String> ids = new HashSet<>(first.subList(epoch * 7, epoch * 7 + 7));
      assertThat(ids).hasSize(7); // every epoch is a permutation
    }
    assertThat(first.subList(0, 7)).isNotEqualTo(first.subList(7, 14));

    PromptSampler interrupted = new PromptSampler(ds, 42);
    List<String> before = draw(interrupted, 10);
    PromptSampler.Cursor cursor = interrupted.cursor();
    assertThat(cursor).isEqualTo(new PromptSampler.Cursor(1, 3));
    List<String> after = draw(new PromptSampler(ds, 42, cursor), 11);
    List<String> joined = new ArrayList<>(before);
    joined.addAll(after);
    assertThat(joined).isEqualTo(first);
  }

  private static List<String> draw(PromptSampler sampler, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(sampler.next().id());
    }
    return out;
  }
}

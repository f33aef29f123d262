package io.rolloutfarm.learner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemonstrationReaderTest {
  @TempDir Path dir;
  private static final int IMAGE = 259;

  private static final Function<String, List<Integer>> BYTES =
      text -> {
        List<Integer> ids = new ArrayList<>();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
          ids.add(b & 0xff);
        }
        return ids;
      };

  @Test
  void segmentsAreTokenizedAndOnlyTrainedPartsAreImitated() throws Exception {
    Files.createDirectories(dir.resolve("img"));
    ImageIO.write(
        new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB),
        "png",
        dir.resolve("img/a.png").toFile());
    Path file = dir.resolve("demos.jsonl");
    Files.writeString(
        file,
        """
        {"id": "d1", "segments": [{"text": "Q:"}, {"image": "img/a.png"}, {"text": "A", "train": true}, {"tokens": [258], "train": true}]}
        {"id": "d2", "token_ids": [1, 259, 66, 67], "loss_mask": [0, 0, 1, 1], "images": ["img/a.png"]}
        """);
    List<Demonstration> demos = DemonstrationReader.read(file, BYTES, IMAGE);
    assertThat(demos).hasSize(2);
    Demonstration d1 = demos.get(0);
    assertThat(d1.tokenIds()).containsExactly((int) 'Q', (int) ':', IMAGE, (int) 'A', 258);
    assertThat(d1.lossMask()).containsExactly(0, 0, 0, 1, 1);
    assertThat(d1.images()).hasSize(1);
    assertThat(d1.images().get(0).getWidth()).isEqualTo(4);
    assertThat(demos.get(1).lossMask()).containsExactly(0, 0, 1, 1);
  }

  @Test
  void inconsistentDemonstrationsAreRejectedWithTheirLine() throws Exception {
    Path file = dir.resolve("bad.jsonl");
    Files.writeString(file, "{\"token_ids\": [1, 259], \"loss_mask\": [0, 1]}\n");
    assertThatThrownBy(() -> DemonstrationReader.read(file, BYTES, IMAGE))
        .hasMessageContaining("bad.jsonl:1: 1 image placeholders in token_ids but 0 images");
    Files.writeString(file, "{\"segments\": [{\"text\": \"only context\"}]}\n");
    assertThatThrownBy(() -> DemonstrationReader.read(file, BYTES, IMAGE))
        .hasMessageContaining("nothing to imitate");
    Files.writeString(file, "{\"token_ids\": [1, 2], \"loss_mask\": [0]}\n");
    assertThatThrownBy(() -> DemonstrationReader.read(file, BYTES, IMAGE))
        .hasMessageContaining("loss_mask has 1 entries for 2 token_ids");
  }
}

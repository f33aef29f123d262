package io.rolloutfarm.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rolloutfarm.api.v1alpha1.TrainingRunSpec;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.worker.agent.Context.Picture;
import io.rolloutfarm.worker.agent.Context.Piece;
import io.rolloutfarm.worker.agent.Context.Text;
import io.rolloutfarm.worker.testing.Tasks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptTemplateTest {
  private static String text(List<Piece> pieces) {
    StringBuilder s = new StringBuilder();
    for (Piece p : pieces) {
      s.append(
          switch (p) {
            case Text t -> t.text();
            case Picture pic -> "[IMG " + pic.image().getWidth() + "]";
          });
    }
    return s.toString();
  }

  @Test
  void sectionsAndPlaceholdersRender() {
    PromptTemplate t =
        PromptTemplate.parse(
            "t",
            "=== system ===\nBe brief.\n=== user ===\n{{images}}{{image_count}} image(s).\n"
                + "{{image_sizes}}\nQ: {{question}}\n");
    List<Image> images = List.of(Image.newBuilder().setWidth(7).setHeight(3).build());
    assertThat(text(t.system(Tasks.imageTask("x", "1", "exact"), images))).isEqualTo("Be brief.");
    assertThat(text(t.user(Tasks.imageTask("x", "1", "exact"), images)))
        .isEqualTo(
            "image_clue_0: [IMG 7]\n1 image(s).\nimage_clue_0: Image Width: 7; Image Height: 3\n"
                + "Q: How many red pixels?");
  }

  @Test
  void aFileWithoutSectionsIsAllUserText() {
    PromptTemplate t = PromptTemplate.parse("t", "Q: {{question}}");
    assertThat(t.system(Tasks.imageTask("x", "1", "exact"), List.of())).isEmpty();
  }

  @Test
  void badTemplatesAreRejectedWithTheReason() {
    assertThatThrownBy(() -> PromptTemplate.parse("my.txt", "{{question}} {{colour}}"))
        .hasMessageContaining("my.txt: unknown placeholder {{colour}}")
        .hasMessageContaining("video_fps");
    assertThatThrownBy(() -> PromptTemplate.parse("my.txt", "no question here"))
        .hasMessageContaining("lacks {{question}}");
    assertThatThrownBy(() -> PromptTemplate.parse("my.txt", "=== system ===\nonly {{question}}\n"))
        .hasMessageContaining("no '=== user ===' section");
  }

  @Test
  void builtinTemplatesFollowThePyVisionConventions() {
    for (String name :
        List.of("image-compact", "video-compact", "image-pyvision", "video-pyvision")) {
      PromptTemplate t = PromptTemplate.builtin(name);
      String all =
          text(t.system(Tasks.imageTask("x", "1", "exact"), List.of()))
              + text(t.user(Tasks.imageTask("x", "1", "exact"), List.of()));
      assertThat(all).as(name).contains("<code>").contains("</code>").contains("\\boxed{");
      assertThat(all).as(name).contains(name.startsWith("video") ? "video_clue_0" : "image_clue_");
    }
    assertThat(
            text(
                PromptTemplate.builtin("image-pyvision")
                    .system(Tasks.imageTask("x", "1", "exact"), List.of())))
        .contains("plt.show()")
        .contains("<interpreter>");
  }

  @Test
  void realModelsGetThePyVisionPromptInChatMlAndTheBuiltinModelTheCompactOne(@TempDir Path dir)
      throws Exception {
    TrainingRunSpec builtin = new TrainingRunSpec();
    AgentSettings compact = AgentSettings.from(builtin, null);
    assertThat(compact.chatFormat()).isEqualTo(ChatFormat.PLAIN);
    assertThat(compact.imageTemplate().origin()).isEqualTo("/prompts/image-compact.txt");

    TrainingRunSpec real = new TrainingRunSpec();
    real.model.weightsPath = "/models/qwen";
    Path custom = dir.resolve("video.txt");
    Files.writeString(custom, "Frames: {{video_frames}}\n{{question}}");
    real.algorithm.prompts.videoTemplate = custom.toString();
    AgentSettings full = AgentSettings.from(real, null);
    assertThat(full.chatFormat()).isEqualTo(ChatFormat.CHATML);
    assertThat(full.imageTemplate().origin()).isEqualTo("/prompts/image-pyvision.txt");
    assertThat(full.videoTemplate().origin()).isEqualTo(custom.toString());

    real.algorithm.prompts.imageTemplate = dir.resolve("missing.txt").toString();
    assertThatThrownBy(() -> AgentSettings.from(real, null))
        .hasMessageContaining("missing.txt: prompt template not found");
  }

  @Test
  void chatMlWrapsPromptAndObservationsAsMessages() {
    List<Piece> prompt = ChatFormat.CHATML.prompt(List.of(new Text("S")), List.of(new Text("U")));
    assertThat(text(prompt))
        .isEqualTo(
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");
    assertThat(
            text(ChatFormat.CHATML.observation(List.of(new Text("<interpreter>x</interpreter>")))))
        .isEqualTo(
            "<|im_end|>\n<|im_start|>user\n<interpreter>x</interpreter><|im_end|>\n<|im_start|>assistant\n");
    assertThat(text(ChatFormat.PLAIN.prompt(List.of(new Text("S")), List.of(new Text("U")))))
        .isEqualTo("S\n\nU\n");
  }
}

package io.rolloutfarm.learner.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rolloutfarm.learner.data.MediaLoader;
import io.rolloutfarm.proto.v1.Image;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * Reads behaviour-cloning demonstrations: JSONL, one demonstration per line, in either of two
 * forms.
 *
 * <p><b>Segments</b> (written by hand or by a generator that knows the prompt template): the
 * context as a list of pieces, tokenized here with the policy's tokenizer.
 *
 * <pre>
 * {"id": "demo-1", "segments": [
 *    {"text": "&lt;system prompt and question&gt;"},
 *    {"image": "img/count-0001.png"},
 *    {"text": "&lt;code&gt;...&lt;/code&gt;", "train": true},
 *    {"text": "&lt;interpreter&gt;...&lt;/interpreter&gt;"},
 *    {"text": "&lt;answer&gt;\\boxed{7}&lt;/answer&gt;", "train": true},
 *    {"tokens": [0], "train": true}]}
 * </pre>
 *
 * {@code text} is tokenized, {@code image} becomes one image placeholder token (path relative to
 * the demonstrations file, or {@code image_base64} with the encoded bytes), {@code tokens} are
 * literal ids (e.g. end-of-sequence); {@code train: true} marks what the policy imitates.
 *
 * <p><b>Tokens</b> (recorded trajectories): {@code {"id", "token_ids": [...], "loss_mask": [...],
 * "images": ["a.png" | {"image_base64": "..."}]}}, exactly as a {@code Trajectory} stores them,
 * with the task's images first and then the observations' images.
 */
public final class DemonstrationReader {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DemonstrationReader() {}

  /**
   * Reads every demonstration.
   *
   * @param tokenizer text to token ids (the engine's tokenizer)
   * @param imageTokenId the placeholder id of one image
   */
  public static List<Demonstration> read(
      Path file, Function<String, List<Integer>> tokenizer, int imageTokenId) throws IOException {
    Path base = file.toAbsolutePath().getParent();
    List<Demonstration> out = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = reader.readLine()) != null) {
        lineNo++;
        String trimmed = line.strip();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
          continue;
        }
        String where = file + ":" + lineNo;
        JsonNode node;
        try {
          node = JSON.readTree(trimmed);
        } catch (JsonProcessingException e) {
          throw new IOException(where + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        String id = node.path("id").asText("line-" + lineNo);
        Demonstration demo;
        if (node.has("segments")) {
          demo = fromSegments(where, id, node.get("segments"), base, tokenizer, imageTokenId);
        } else if (node.has("token_ids")) {
          demo = fromTokens(where, id, node, base, imageTokenId);
        } else {
          throw new IOException(where + ": expected 'segments' or 'token_ids'");
        }
        if (demo.lossMask().stream().noneMatch(m -> m == 1)) {
          throw new IOException(where + ": nothing to imitate (no segment has \"train\": true)");
        }
        out.add(demo);
      }
    } catch (NoSuchFileException e) {
      throw new IOException(file + ": no such demonstrations file", e);
    }
    if (out.isEmpty()) {
      throw new IOException(file + ": no demonstrations");
    }
    return out;
  }

  private static Demonstration fromSegments(
      String where,
      String id,
      JsonNode segments,
      Path base,
      Function<String, List<Integer>> tokenizer,
      int imageTokenId)
      throws IOException {
    if (!segments.isArray() || segments.isEmpty()) {
      throw new IOException(where + ": segments: expected a non-empty list");
    }
    List<Integer> tokens = new ArrayList<>();
    List<Integer> mask = new ArrayList<>();
    List<Image> images = new ArrayList<>();
    for (int i = 0; i < segments.size(); i++) {
      JsonNode seg = segments.get(i);
      String field = "segments[" + i + "]";
      int train = seg.path("train").asBoolean(false) ? 1 : 0;
      List<Integer> ids;
      if (seg.has("text")) {
        ids = tokenizer.apply(seg.get("text").asText());
      } else if (seg.has("image") || seg.has("image_base64")) {
        images.add(image(where + ": " + field, seg, base));
        ids = List.of(imageTokenId);
        train = 0; // the policy never generates image placeholders
      } else if (seg.has("tokens")) {
        ids = new ArrayList<>();
        for (JsonNode t : seg.get("tokens")) {
          ids.add(t.asInt());
        }
      } else {
        throw new IOException(where + ": " + field + ": expected text, image or tokens");
      }
      for (int t : ids) {
        tokens.add(t);
        mask.add(train);
      }
    }
    return new Demonstration(id, tokens, mask, images);
  }

  private static Demonstration fromTokens(
      String where, String id, JsonNode node, Path base, int imageTokenId) throws IOException {
    List<Integer> tokens = new ArrayList<>();
    for (JsonNode t : node.get("token_ids")) {
      tokens.add(t.asInt());
    }
    List<Integer> mask = new ArrayList<>();
    for (JsonNode m : node.path("loss_mask")) {
      mask.add(m.asInt() != 0 ? 1 : 0);
    }
    if (mask.size() != tokens.size()) {
      throw new IOException(
          where
              + ": loss_mask has "
              + mask.size()
              + " entries for "
              + tokens.size()
              + " token_ids");
    }
    List<Image> images = new ArrayList<>();
    JsonNode imageNodes = node.path("images");
    for (int i = 0; i < imageNodes.size(); i++) {
      JsonNode img = imageNodes.get(i);
      images.add(image(where + ": images[" + i + "]", img.isTextual() ? pathNode(img) : img, base));
    }
    long placeholders = tokens.stream().filter(t -> t == imageTokenId).count();
    if (placeholders != images.size()) {
      throw new IOException(
          where
              + ": "
              + placeholders
              + " image placeholders in token_ids but "
              + images.size()
              + " images");
    }
    return new Demonstration(id, tokens, mask, images);
  }

  private static JsonNode pathNode(JsonNode text) {
    return JSON.createObjectNode().put("image", text.asText());
  }

  private static Image image(String where, JsonNode seg, Path base) throws IOException {
    if (seg.has("image_base64")) {
      byte[] bytes;
      try {
        bytes = Base64.getDecoder().decode(seg.get("image_base64").asText());
      } catch (IllegalArgumentException e) {
        throw new IOException(where + ": image_base64: not base64", e);
      }
      return MediaLoader.toPng(Path.of(where), bytes);
    }
    Path file = base.resolve(seg.get("image").asText()).normalize();
    if (!Files.isRegularFile(file)) {
      throw new IOException(where + ": image: no such file " + file);
    }
    try {
      return MediaLoader.toPng(file, Files.readAllBytes(file));
    } catch (RuntimeException e) {
      throw new IOException(where + ": " + e.getMessage(), e);
    }
  }
}

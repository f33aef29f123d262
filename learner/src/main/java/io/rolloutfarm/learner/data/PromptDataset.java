package io.rolloutfarm.learner.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rolloutfarm.proto.v1.Verifier;
import io.rolloutfarm.proto.v1.VideoInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Prompts read from a JSONL file. One JSON object per line:
 *
 * <pre>
 * {"id": "count-0001", "question": "How many dots?", "answer": "7",
 *  "images": ["img/count-0001.png"], "video": "vid/clip.mp4",
 *  "verifier": {"kind": "numeric", "tolerance": 0.01}, "family": "count"}
 * </pre>
 *
 * {@code id}, {@code question} and {@code answer} are required; {@code images} (list of paths),
 * {@code video} (a path, or an object {@code {"path", "frame_count", "fps", "width", "height"}}
 * whose given numbers override what is read from the file), {@code verifier} (a kind string or an
 * object with {@code kind} and {@code tolerance}; default {@code exact}) and {@code family} are
 * optional; other fields are ignored. Media paths resolve against the dataset file's folder. Blank
 * lines and lines starting with {@code #} are skipped.
 */
public final class PromptDataset {
  static final Set<String> VERIFIER_KINDS = Set.of("exact", "numeric", "choice", "boxed");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final List<Prompt> prompts;

  private PromptDataset(Path file, List<Prompt> prompts) {
    this.file = file;
    this.prompts = List.copyOf(prompts);
  }

  /** A dataset that cannot be read; the message names the file, line and field. */
  public static final class InvalidDatasetException extends IOException {
    public InvalidDatasetException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static PromptDataset load(Path file) throws InvalidDatasetException {
    Path base = file.toAbsolutePath().getParent();
    List<Prompt> prompts = new ArrayList<>();
    Set<String> ids = new HashSet<>();
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
        Prompt prompt = parse(where, trimmed, base);
        if (!ids.add(prompt.id())) {
          throw new InvalidDatasetException(
              where + ": id: duplicate id '" + prompt.id() + "'", null);
        }
        prompts.add(prompt);
      }
    } catch (NoSuchFileException e) {
      throw new InvalidDatasetException(file + ": no such dataset file", e);
    } catch (InvalidDatasetException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidDatasetException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (prompts.isEmpty()) {
      throw new InvalidDatasetException(file + ": the dataset has no records", null);
    }
    return new PromptDataset(file, prompts);
  }

  private static Prompt parse(String where, String line, Path base) throws InvalidDatasetException {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new InvalidDatasetException(where + ": not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (!node.isObject()) {
      throw new InvalidDatasetException(where + ": expected a JSON object", null);
    }
    String id = requiredText(where, node, "id");
    String question = requiredText(where, node, "question");
    String answer = requiredText(where, node, "answer");
    List<Path> images = new ArrayList<>();
    JsonNode imagesNode = node.path("images");
    if (!imagesNode.isMissingNode() && !imagesNode.isNull()) {
      if (!imagesNode.isArray()) {
        throw new InvalidDatasetException(where + ": images: expected a list of paths", null);
      }
      for (int i = 0; i < imagesNode.size(); i++) {
        JsonNode image = imagesNode.get(i);
        if (!image.isTextual()) {
          throw new InvalidDatasetException(where + ": images[" + i + "]: expected a path", null);
        }
        images.add(mediaFile(where, "images[" + i + "]", base, image.asText()));
      }
    }
    Path video = null;
    VideoInfo videoInfo = null;
    JsonNode videoNode = node.path("video");
    if (videoNode.isTextual()) {
      video = mediaFile(where, "video", base, videoNode.asText());
      videoInfo = probe(where, video, null);
    } else if (videoNode.isObject()) {
      video =
          mediaFile(where, "video.path", base, requiredText(where + ": video", videoNode, "path"));
      videoInfo = probe(where, video, videoNode);
    } else if (!videoNode.isMissingNode() && !videoNode.isNull()) {
      throw new InvalidDatasetException(where + ": video: expected a path or an object", null);
    }
    String family = node.path("family").isTextual() ? node.path("family").asText() : "";
    return new Prompt(
        id, question, answer, images, video, videoInfo, verifier(where, node), family);
  }

  private static Verifier verifier(String where, JsonNode node) throws InvalidDatasetException {
    JsonNode v = node.path("verifier");
    String kind;
    double tolerance = 0;
    if (v.isMissingNode() || v.isNull()) {
      kind = "exact";
    } else if (v.isTextual()) {
      kind = v.asText();
    } else if (v.isObject()) {
      kind = requiredText(where + ": verifier", v, "kind");
      JsonNode tol = v.path("tolerance");
      if (!tol.isMissingNode()) {
        if (!tol.isNumber() || tol.asDouble() < 0) {
          throw new InvalidDatasetException(
              where + ": verifier.tolerance: expected a number >= 0", null);
        }
        tolerance = tol.asDouble();
      }
    } else {
      throw new InvalidDatasetException(where + ": verifier: expected a kind or an object", null);
    }
    if (!VERIFIER_KINDS.contains(kind)) {
      throw new InvalidDatasetException(
          where
              + ": verifier: unknown kind '"
              + kind
              + "' (known: "
              + VERIFIER_KINDS.stream().sorted().toList()
              + ")",
          null);
    }
    return Verifier.newBuilder().setKind(kind).setTolerance(tolerance).build();
  }

  private static VideoInfo probe(String where, Path video, JsonNode given)
      throws InvalidDatasetException {
    VideoInfo.Builder info = VideoInfo.newBuilder();
    boolean complete =
        given != null
            && given.path("frame_count").isNumber()
            && given.path("fps").isNumber()
            && given.path("width").isNumber()
            && given.path("height").isNumber();
    if (!complete) {
      try {
        info.mergeFrom(Mp4Probe.probe(video));
      } catch (IOException e) {
        throw new InvalidDatasetException(
            where
                + ": video: cannot read the video's metadata ("
                + e.getMessage()
                + "); give frame_count, fps, width and height in the record",
            e);
      }
    }
    if (given != null) {
      if (given.path("frame_count").isNumber()) {
        info.setFrameCount(given.path("frame_count").asInt());
      }
      if (given.path("fps").isNumber()) {
        info.setFps(given.path("fps").asDouble());
      }
      if (given.path("width").isNumber()) {
        info.setWidth(given.path("width").asInt());
      }
      if (given.path("height").isNumber()) {
        info.setHeight(given.path("height").asInt());
      }
    }
    return info.build();
  }

  private static Path mediaFile(String where, String field, Path base, String path)
      throws InvalidDatasetException {
    Path resolved = base.resolve(path).normalize();
    if (!Files.isRegularFile(resolved)) {
      throw new InvalidDatasetException(
          where
              + ": "
              + field
              + ": no such file "
              + resolved
              + " (paths are relative to the dataset file)",
          null);
    }
    try {
      MediaLoader.mimeType(resolved);
    } catch (IllegalArgumentException e) {
      throw new InvalidDatasetException(where + ": " + field + ": " + e.getMessage(), e);
    }
    return resolved;
  }

  private static String requiredText(String where, JsonNode node, String field)
      throws InvalidDatasetException {
    JsonNode value = node.path(field);
    if (value.isTextual() && !value.asText().isBlank()) {
      return value.asText();
    }
    if (value.isNumber() || value.isBoolean()) {
      return value.asText();
    }
    throw new InvalidDatasetException(
        where + ": " + field + ": required " + (value.isMissingNode() ? "(missing)" : "(empty)"),
        null);
  }

  public Path file() {
    return file;
  }

  public List<Prompt> prompts() {
    return prompts;
  }

  public int size() {
    return prompts.size();
  }

  public Prompt get(int index) {
    return prompts.get(index);
  }
}

package io.rolloutfarm.worker.task;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.google.protobuf.ByteString;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Verifier;
import io.rolloutfarm.proto.v1.VideoInfo;
import io.rolloutfarm.worker.reward.Verifiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A task described in JSON, for {@code farm rollout}:
 *
 * <pre>
 * {"id": "count-1", "question": "How many red squares?", "answer": "3",
 *  "images": ["img/a.png"], "video": "clip.mp4",
 *  "verifier": "numeric"  or  {"kind": "numeric", "tolerance": 0.01},
 *  "family": "count", "video_info": {"frames": 120, "fps": 30, "width": 64, "height": 48}}
 * </pre>
 *
 * Paths are relative to the task file. {@code images}, {@code video}, {@code verifier} (default
 * {@code exact}), {@code family} and {@code video_info} are optional; without {@code video_info}
 * the video's metadata is read with OpenCV.
 */
public final class TaskFile {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private TaskFile() {}

  /** The JSON shape. */
  record Json(
      @JsonProperty(required = true) String id,
      @JsonProperty(required = true) String question,
      @JsonProperty(required = true) String answer,
      List<String> images,
      String video,
      JsonNode verifier,
      String family,
      @JsonProperty("video_info") VideoJson videoInfo) {}

  /** Video metadata given in the task file. */
  record VideoJson(
      @JsonProperty(required = true) int frames,
      @JsonProperty(required = true) double fps,
      @JsonProperty(required = true) int width,
      @JsonProperty(required = true) int height) {}

  /** Reads a task file into a task with its media loaded. */
  public static Task load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": task file not found", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    Json json;
    try {
      json = JSON.readValue(text, Json.class);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(
          file
              + ": unknown field '"
              + e.getPropertyName()
              + "' (known: id, question, answer, images, video, verifier, family, video_info)",
          e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": " + e.getOriginalMessage(), e);
    }
    Path dir = file.toAbsolutePath().getParent();
    Task.Builder task =
        Task.newBuilder()
            .setTaskId(json.id())
            .setPromptId(json.id())
            .setQuestion(json.question())
            .setAnswer(json.answer())
            .setFamily(json.family() == null ? "" : json.family())
            .setVerifier(verifier(file, json.verifier()));
    List<String> images = json.images() == null ? List.of() : json.images();
    for (int i = 0; i < images.size(); i++) {
      Path image = dir.resolve(images.get(i));
      task.addMedia(media(file, "images[" + i + "]", image, "image_clue_" + i));
    }
    if (json.video() != null) {
      Path video = dir.resolve(json.video());
      task.addMedia(media(file, "video", video, "video_clue_0"));
      task.setVideoInfo(
          json.videoInfo() != null
              ? VideoInfo.newBuilder()
                  .setFrameCount(json.videoInfo().frames())
                  .setFps(json.videoInfo().fps())
                  .setWidth(json.videoInfo().width())
                  .setHeight(json.videoInfo().height())
                  .build()
              : VideoProbe.probe(video));
    }
    return task.build();
  }

  private static Verifier verifier(Path file, JsonNode node) {
    Verifier.Builder v = Verifier.newBuilder();
    if (node == null || node.isNull()) {
      v.setKind("exact");
    } else if (node.isTextual()) {
      v.setKind(node.asText());
    } else if (node.isObject()) {
      v.setKind(node.path("kind").asText("exact"));
      v.setTolerance(node.path("tolerance").asDouble(0));
    } else {
      throw new IllegalArgumentException(
          file
              + ": verifier: expected a kind such as \"numeric\" or {\"kind\": ..., \"tolerance\": ...}");
    }
    if (!Verifiers.KINDS.contains(v.getKind())) {
      throw new IllegalArgumentException(
          file + ": verifier: unknown kind '" + v.getKind() + "' (known: " + Verifiers.KINDS + ")");
    }
    return v.build();
  }

  private static Media media(Path file, String field, Path path, String name) {
    String lower = path.getFileName().toString().toLowerCase(Locale.ROOT);
    String mime;
    if (lower.endsWith(".png")) {
      mime = "image/png";
    } else if (lower.endsWith(".jpg") || lower.endsWith(".jpeg")) {
      mime = "image/jpeg";
    } else if (lower.endsWith(".mp4")) {
      mime = "video/mp4";
    } else {
      throw new IllegalArgumentException(
          file + ": " + field + ": " + path + ": expected a .png, .jpg or .mp4 file");
    }
    if (field.startsWith("images") != mime.startsWith("image/")) {
      throw new IllegalArgumentException(
          file
              + ": "
              + field
              + ": "
              + path
              + " is not "
              + (field.equals("video") ? "a video" : "an image"));
    }
    try {
      return Media.newBuilder()
          .setName(name)
          .setMimeType(mime)
          .setData(ByteString.copyFrom(Files.readAllBytes(path)))
          .build();
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": " + field + ": " + path + " not found", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": " + field + ": cannot read " + path, e);
    }
  }
}

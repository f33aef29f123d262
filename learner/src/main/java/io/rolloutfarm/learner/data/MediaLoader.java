package io.rolloutfarm.learner.data;

import com.google.protobuf.ByteString;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.Task;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Turns a prompt's files into what the wire needs: {@link Media} for the sandbox (the file bytes as
 * they are, named {@code image_clue_i} and {@code video_clue_0}) and PNG {@link Image}s for the
 * engine (the placeholders in a trajectory stand for these). Recently used prompts are cached.
 */
public final class MediaLoader {
  private final int cacheSize;
  private final Map<String, List<Media>> mediaCache;
  private final Map<String, List<Image>> imageCache;

  public MediaLoader(int cacheSize) {
    this.cacheSize = cacheSize;
    this.mediaCache = lru();
    this.imageCache = lru();
  }

  private <V> Map<String, V> lru() {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > cacheSize;
      }
    };
  }

  /** MIME type from a file name's extension. */
  public static String mimeType(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    int dot = name.lastIndexOf('.');
    String ext = dot < 0 ? "" : name.substring(dot + 1);
    return switch (ext) {
      case "png" -> "image/png";
      case "jpg", "jpeg" -> "image/jpeg";
      case "gif" -> "image/gif";
      case "bmp" -> "image/bmp";
      case "webp" -> "image/webp";
      case "mp4", "m4v" -> "video/mp4";
      case "mov" -> "video/quicktime";
      default ->
          throw new IllegalArgumentException(
              file
                  + ": unsupported media type '."
                  + ext
                  + "' (png, jpg, gif, bmp, webp, mp4, mov)");
    };
  }

  /**
   * The task a rollout worker gets for {@code prompt}: its question, answer, verifier and media.
   * Callers add what belongs to a lease (group index, attempt).
   */
  public Task.Builder task(Prompt prompt, String taskId) {
    Task.Builder task =
        Task.newBuilder()
            .setTaskId(taskId)
            .setPromptId(prompt.id())
            .setQuestion(prompt.question())
            .setAnswer(prompt.answer())
            .addAllMedia(media(prompt))
            .setVerifier(prompt.verifier())
            .setFamily(prompt.family());
    if (prompt.videoInfo() != null) {
      task.setVideoInfo(prompt.videoInfo());
    }
    return task;
  }

  /** The sandbox inputs of a prompt: images as image_clue_0.., then the video as video_clue_0. */
  public synchronized List<Media> media(Prompt prompt) {
    List<Media> cached = mediaCache.get(prompt.id());
    if (cached != null) {
      return cached;
    }
    List<Media> media = new ArrayList<>();
    for (int i = 0; i < prompt.images().size(); i++) {
      Path image = prompt.images().get(i);
      media.add(
          Media.newBuilder()
              .setName("image_clue_" + i)
              .setMimeType(mimeType(image))
              .setData(ByteString.copyFrom(read(image)))
              .build());
    }
    if (prompt.video() != null) {
      media.add(
          Media.newBuilder()
              .setName("video_clue_0")
              .setMimeType(mimeType(prompt.video()))
              .setData(ByteString.copyFrom(read(prompt.video())))
              .build());
    }
    List<Media> result = List.copyOf(media);
    mediaCache.put(prompt.id(), result);
    return result;
  }

  /** The prompt's images as PNG, in placeholder order, for training sequences. */
  public synchronized List<Image> trainingImages(Prompt prompt) {
    List<Image> cached = imageCache.get(prompt.id());
    if (cached != null) {
      return cached;
    }
    List<Image> images = new ArrayList<>();
    for (Path file : prompt.images()) {
      images.add(toPng(file, read(file)));
    }
    List<Image> result = List.copyOf(images);
    imageCache.put(prompt.id(), result);
    return result;
  }

  /** An encoded image (any format ImageIO reads) as a PNG {@link Image} with its size. */
  public static Image toPng(Path origin, byte[] encoded) {
    try {
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(encoded));
      if (img == null) {
        throw new IllegalArgumentException(origin + ": not a readable image");
      }
      byte[] png;
      if (encoded.length > 8 && encoded[1] == 'P' && encoded[2] == 'N' && encoded[3] == 'G') {
        png = encoded;
      } else {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        png = out.toByteArray();
      }
      return Image.newBuilder()
          .setPng(ByteString.copyFrom(png))
          .setWidth(img.getWidth())
          .setHeight(img.getHeight())
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(origin + ": cannot decode image: " + e.getMessage(), e);
    }
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read media file: " + e.getMessage(), e);
    }
  }
}

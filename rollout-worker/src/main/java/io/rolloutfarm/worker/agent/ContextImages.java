package io.rolloutfarm.worker.agent;

import com.google.protobuf.ByteString;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.Task;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The task's input images as the policy sees them: PNG with width and height. PNG inputs pass
 * through (their size read from the header); JPEG inputs are decoded and re-encoded once.
 */
public final class ContextImages {
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private ContextImages() {}

  /** The task's images, in order (videos are skipped: they never enter the context). */
  public static List<Image> of(Task task) {
    List<Image> out = new ArrayList<>();
    for (Media media : task.getMediaList()) {
      if (media.getMimeType().startsWith("image/")) {
        out.add(toPng(media));
      }
    }
    return out;
  }

  /** True when the task has a video. */
  public static boolean hasVideo(Task task) {
    return task.getMediaList().stream().anyMatch(m -> m.getMimeType().startsWith("video/"));
  }

  static Image toPng(Media media) {
    byte[] data = media.getData().toByteArray();
    if (isPng(data)) {
      ByteBuffer header = ByteBuffer.wrap(data, 16, 8);
      return Image.newBuilder()
          .setPng(media.getData())
          .setWidth(header.getInt())
          .setHeight(header.getInt())
          .build();
    }
    try {
      BufferedImage decoded = ImageIO.read(new java.io.ByteArrayInputStream(data));
      if (decoded == null) {
        throw new IllegalArgumentException(
            media.getName() + ": " + media.getMimeType() + " data is not a readable image");
      }
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(decoded, "png", png);
      return Image.newBuilder()
          .setPng(ByteString.copyFrom(png.toByteArray()))
          .setWidth(decoded.getWidth())
          .setHeight(decoded.getHeight())
          .build();
    } catch (IOException e) {
      throw new IllegalArgumentException(media.getName() + ": cannot decode image: " + e, e);
    }
  }

  static boolean isPng(byte[] data) {
    if (data.length < 24) {
      return false;
    }
    for (int i = 0; i < PNG_MAGIC.length; i++) {
      if (data[i] != PNG_MAGIC[i]) {
        return false;
      }
    }
    return true;
  }
}

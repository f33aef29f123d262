package io.rolloutfarm.worker.testing;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Image files for tests. */
public final class Pngs {
  private Pngs() {}

  /** Writes a blank image of the given size in the format of the file's extension. */
  public static Path write(Path file, int width, int height) throws IOException {
    String format = file.toString().endsWith(".png") ? "png" : "jpg";
    ImageIO.write(
        new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB), format, file.toFile());
    return file;
  }
}

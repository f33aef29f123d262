package io.rolloutfarm.worker.task;

import io.rolloutfarm.proto.PythonPaths;
import io.rolloutfarm.proto.v1.VideoInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Reads a video's frame count, fps and size with OpenCV in the farm's Python. */
public final class VideoProbe {
  private static final String SCRIPT =
      "import sys, cv2\n"
          + "c = cv2.VideoCapture(sys.argv[1])\n"
          + "if not c.isOpened(): sys.exit('cannot open video')\n"
          + "print(int(c.get(cv2.CAP_PROP_FRAME_COUNT)), c.get(cv2.CAP_PROP_FPS),"
          + " int(c.get(cv2.CAP_PROP_FRAME_WIDTH)), int(c.get(cv2.CAP_PROP_FRAME_HEIGHT)))\n";

  private VideoProbe() {}

  /** The video's metadata; fails with a message naming the file when it cannot be read. */
  public static VideoInfo probe(Path video) {
    try {
      Process p =
          new ProcessBuilder(PythonPaths.interpreter(), "-c", SCRIPT, video.toString())
              .redirectErrorStream(true)
              .start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalArgumentException(video + ": reading the video metadata timed out");
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.exitValue() != 0) {
        throw new IllegalArgumentException(
            video + ": cannot read video metadata (" + out + "); give \"video_info\" in the task");
      }
      String[] f = out.split("\\s+");
      return VideoInfo.newBuilder()
          .setFrameCount(Integer.parseInt(f[0]))
          .setFps(Double.parseDouble(f[1]))
          .setWidth(Integer.parseInt(f[2]))
          .setHeight(Integer.parseInt(f[3]))
          .build();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          video + ": cannot run " + PythonPaths.interpreter() + " to read the video: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}

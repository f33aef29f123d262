package io.rolloutfarm.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rolloutfarm.proto.PythonPaths;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.Media;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short MP4 becomes a decord-like frame reader; a large image refused while its bytes are still
 * arriving is reported as such.
 */
class SandboxMediaTest {
  @TempDir Path tmp;

  /** Writes a 12-frame 32x24 MP4 at 6 fps whose frame i is filled with gray level 20*i. */
  private byte[] mp4() throws Exception {
    Path file = tmp.resolve("clip.mp4");
    String script =
        "import cv2, numpy as np, sys\n"
            + "w = cv2.VideoWriter(sys.argv[1], cv2.VideoWriter_fourcc(*'mp4v'), 6.0, (32, 24))\n"
            + "assert w.isOpened()\n"
            + "for i in range(12):\n"
            + "    w.write(np.full((24, 32, 3), 20 * i, np.uint8))\n"
            + "w.release()\n";
    Process p =
        new ProcessBuilder(PythonPaths.interpreter(), "-c", script, file.toString())
            .inheritIO()
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return Files.readAllBytes(file);
  }

  @Test
  void mp4BecomesAFrameReader() throws Exception {
    Media video =
        Media.newBuilder()
            .setName("video_clue_0")
            .setMimeType("video/mp4")
            .setData(ByteString.copyFrom(mp4()))
            .build();
    try (var sandbox = new SandboxTestSupport(SandboxTestSupport.config("media"))) {
      String s = sandbox.open(video);
      ExecuteResponse r =
          sandbox.exec(
              s,
              "v = video_clue_0\n"
                  + "print(len(v), round(v.get_avg_fps(), 1), v[0].shape, v[0].dtype)\n"
                  + "print(v.get_batch([0, 5, 11]).shape)\n"
                  + "print([int(round(v[i].mean() / 20)) for i in (0, 5, -1)])");
      assertThat(r.getStatus()).as(r.getStderr()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
      assertThat(r.getStdout()).isEqualTo("12 6.0 (24, 32, 3) uint8\n(3, 24, 32, 3)\n[0, 5, 11]\n");
    }
  }

  @Test
  void imageRefusedWhileItsBytesStillArriveIsNamedAndTheServerGoesOn() throws Exception {
    // Sessions decode media as the bytes arrive: this one can refuse the image on its header,
    // megabytes before the server has written the rest (and a second image after it).
    Media large =
        Media.newBuilder()
            .setName("image_clue_0")
            .setMimeType("image/png")
            .setData(ByteString.copyFrom(SandboxBenchmark.megapixelPng()))
            .build();
    assertThat(large.getData().size()).isGreaterThan(1 << 20);
    Media small = SandboxTestSupport.image("image_clue_1", "png", 8, 8, java.awt.Color.BLUE);
    SandboxConfig config =
        SandboxTestSupport.config("media-cap")
            .withMaxInputPixels(250_000)
            .withMaxMediaBytes(8 << 20);
    try (var sandbox = new SandboxTestSupport(config)) {
      for (int attempt = 0; attempt < 3; attempt++) {
        assertThatThrownBy(() -> sandbox.open(large, small))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> {
                  assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                  assertThat(e.getStatus().getDescription())
                      .contains("media 'image_clue_0'")
                      .contains("1000x1000 pixels exceed the cap of 250000");
                });
      }
      String s = sandbox.open(small);
      ExecuteResponse r = sandbox.exec(s, "print(image_clue_1.size)");
      assertThat(r.getStdout()).isEqualTo("(8, 8)\n");
      assertThat(sandbox.stub().getStats(GetStatsRequest.getDefaultInstance()).getOpenSessions())
          .isEqualTo(1);
    }
  }
}

package io.rolloutfarm.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.Media;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the model's code sees: persistent state, media, figures, output and errors. */
class SandboxBehaviourTest {
  static SandboxTestSupport sandbox;

  @BeforeAll
  static void start() throws Exception {
    sandbox = new SandboxTestSupport(SandboxTestSupport.config("behaviour"));
  }

  @AfterAll
  static void stop() {
    sandbox.close();
  }

  @Test
  void globalsPersistAcrossCalls() {
    String s = sandbox.open();
    ExecuteResponse first = sandbox.exec(s, "x = 41\ndef f(y):\n    return y + 1");
    assertThat(first.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(first.getSessionAlive()).isTrue();
    ExecuteResponse second = sandbox.exec(s, "print(f(x))");
    assertThat(second.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(second.getStdout()).isEqualTo("42\n");
    // A trailing expression is shown like in a notebook.
    assertThat(sandbox.exec(s, "x * 2").getStdout()).isEqualTo("82\n");
    assertThat(sandbox.close(s)).isTrue();
    assertThat(sandbox.close(s)).isFalse();
    assertThatThrownBy(() -> sandbox.exec(s, "x"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void sessionsDoNotShareState() {
    String a = sandbox.open();
    String b = sandbox.open();
    sandbox.exec(a, "secret = 'a'");
    ExecuteResponse r = sandbox.exec(b, "print(secret)");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(r.getError()).isEqualTo("NameError: name 'secret' is not defined");
    sandbox.close(a);
    sandbox.close(b);
  }

  @Test
  void pngAndJpegBecomePilImages() throws Exception {
    Media png = SandboxTestSupport.image("image_clue_0", "png", 64, 32, Color.RED);
    Media jpeg = SandboxTestSupport.image("image_clue_1", "jpg", 20, 10, Color.BLUE);
    String s = sandbox.open(png, jpeg);
    ExecuteResponse r =
        sandbox.exec(
            s,
            "from PIL import Image\n"
                + "print(isinstance(image_clue_0, Image.Image), image_clue_0.size,"
                + " image_clue_0.getpixel((3, 3)))\n"
                + "print(image_clue_1.format, image_clue_1.size,"
                + " image_clue_1.convert('RGB').getpixel((5, 5))[2] > 200)");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(r.getStdout()).isEqualTo("True (64, 32) (255, 0, 0)\nJPEG (20, 10) True\n");
    sandbox.close(s);
  }

  @Test
  void pltShowCapturesEveryOpenFigureAndClearsThem() throws Exception {
    String s = sandbox.open();
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import matplotlib.pyplot as plt\n"
                + "plt.figure(figsize=(2, 1), dpi=50); plt.plot([1, 2])\n"
                + "plt.figure(figsize=(3, 2), dpi=50); plt.plot([2, 1])\n"
                + "plt.show()\n"
                + "plt.figure(figsize=(1, 1), dpi=50); plt.show()\n"
                + "print(len(plt.get_fignums()))");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(r.getStdout()).isEqualTo("0\n");
    assertThat(r.getImagesCount()).isEqualTo(3);
    int[][] sizes = {{100, 50}, {150, 100}, {50, 50}};
    for (int i = 0; i < 3; i++) {
      BufferedImage img =
          ImageIO.read(new ByteArrayInputStream(r.getImages(i).getPng().toByteArray()));
      assertThat(img.getWidth()).isEqualTo(sizes[i][0]);
      assertThat(img.getHeight()).isEqualTo(sizes[i][1]);
      assertThat(r.getImages(i).getWidth()).isEqualTo(sizes[i][0]);
      assertThat(r.getImages(i).getHeight()).isEqualTo(sizes[i][1]);
    }
    assertThat(sandbox.exec(s, "plt.show()").getImagesCount()).isZero();
    sandbox.close(s);
  }

  @Test
  void exceptionsAreErrorsWithTypeMessageAndTraceback() {
    String s = sandbox.open();
    ExecuteResponse r =
        sandbox.exec(s, "print('before')\ndef g():\n    raise ValueError('bad value')\ng()");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(r.getError()).isEqualTo("ValueError: bad value");
    assertThat(r.getStdout()).isEqualTo("before\n");
    assertThat(r.getStderr())
        .contains("Traceback (most recent call last):")
        .contains("line 3, in g")
        .endsWith("ValueError: bad value\n")
        .doesNotContain("rolloutfarm_sandbox");
    assertThat(r.getSessionAlive()).isTrue();
    ExecuteResponse syntax = sandbox.exec(s, "def (:");
    assertThat(syntax.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(syntax.getError()).startsWith("SyntaxError: ");
    assertThat(sandbox.exec(s, "print('still here')").getStdout()).isEqualTo("still here\n");
    sandbox.close(s);
  }

  @Test
  void librariesAreImportable() {
    String s = sandbox.open();
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import numpy, PIL, cv2, matplotlib\n"
                + "print(matplotlib.get_backend().lower(), numpy.arange(4).sum())");
    assertThat(r.getStdout()).isEqualTo("agg 6\n");
    sandbox.close(s);
  }

  @Test
  void badMediaIsRejectedWithTheItemNamed() throws Exception {
    Media wrongName = SandboxTestSupport.image("1st", "png", 4, 4, Color.RED);
    assertThatThrownBy(() -> sandbox.open(wrongName))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("media[0] '1st'");
            });
    Media corrupt =
        SandboxTestSupport.image("image_clue_0", "png", 4, 4, Color.RED).toBuilder()
            .setData(com.google.protobuf.ByteString.copyFromUtf8("not a png"))
            .build();
    assertThatThrownBy(() -> sandbox.open(corrupt))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("media 'image_clue_0'");
            });
  }

  @Test
  void statsCountOpenSessions() {
    int before = sandbox.stub().getStats(GetStatsRequest.getDefaultInstance()).getOpenSessions();
    String s = sandbox.open();
    var stats = sandbox.stub().getStats(GetStatsRequest.getDefaultInstance());
    assertThat(stats.getCapacity()).isEqualTo(8);
    assertThat(stats.getOpenSessions()).isEqualTo(before + 1);
    assertThat(stats.getWarmRuntimes()).isEqualTo(1);
    sandbox.close(s);
  }
}

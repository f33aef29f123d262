package io.rolloutfarm.sandbox;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.proto.v1.CloseSessionRequest;
import io.rolloutfarm.proto.v1.ExecuteRequest;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.OpenSessionRequest;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc.SandboxServiceBlockingStub;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/** A real sandbox server for tests, with a client to it. */
final class SandboxTestSupport implements AutoCloseable {
  final SandboxServer server;
  final ManagedChannel channel;

  SandboxTestSupport(SandboxConfig config) throws IOException {
    server = SandboxServer.start(config);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  /** A work root the per-session uids can reach (JUnit's temp folders are private). */
  static Path workRoot(String name) throws IOException {
    Path root = Path.of("target", "sandbox-work", name + "-" + System.nanoTime()).toAbsolutePath();
    Files.createDirectories(root);
    return root;
  }

  static SandboxConfig config(String name) throws IOException {
    return SandboxConfig.defaults().withCapacity(8).withWorkRoot(workRoot(name));
  }

  SandboxServiceBlockingStub stub() {
    return SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  String open(Media... media) {
    return stub()
        .openSession(
            OpenSessionRequest.newBuilder().addAllMedia(List.of(media)).setLabel("test").build())
        .getSessionId();
  }

  ExecuteResponse exec(String session, String code) {
    return exec(session, code, 0);
  }

  ExecuteResponse exec(String session, String code, int timeoutMs) {
    return stub()
        .execute(
            ExecuteRequest.newBuilder()
                .setSessionId(session)
                .setCode(code)
                .setTimeoutMs(timeoutMs)
                .build());
  }

  boolean close(String session) {
    return stub()
        .closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build())
        .getWasOpen();
  }

  static Media image(String name, String format, int width, int height, Color color)
      throws IOException {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, width, height);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, format, out);
    return Media.newBuilder()
        .setName(name)
        .setMimeType("image/" + (format.equals("jpg") ? "jpeg" : format))
        .setData(ByteString.copyFrom(out.toByteArray()))
        .build();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.close();
  }
}

package io.rolloutfarm.cli.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.cli.FarmCommand;
import io.rolloutfarm.proto.v1.CloseSessionRequest;
import io.rolloutfarm.proto.v1.CloseSessionResponse;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteRequest;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.OpenSessionRequest;
import io.rolloutfarm.proto.v1.OpenSessionResponse;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.SandboxStats;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code farm rollout} end to end against a sandbox server on loopback. */
class RolloutCommandTest {
  private static final String F = "```";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private Server sandbox;
  private HttpServer openai;
  private final PlottingSandbox service = new PlottingSandbox();

  private record Run(int exitCode, String out, String err) {}

  /** Answers "3" to any code and one 32x16 figure to code that calls plt.show(). */
  static final class PlottingSandbox extends SandboxServiceGrpc.SandboxServiceImplBase {
    final List<String> executed = new CopyOnWriteArrayList<>();
    final List<String> mediaNames = new CopyOnWriteArrayList<>();
    final AtomicInteger sessions = new AtomicInteger();

    @Override
    public void openSession(OpenSessionRequest req, StreamObserver<OpenSessionResponse> out) {
      req.getMediaList().forEach(m -> mediaNames.add(m.getName()));
      out.onNext(
          OpenSessionResponse.newBuilder().setSessionId("s" + sessions.incrementAndGet()).build());
      out.onCompleted();
    }

    @Override
    public void execute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
      executed.add(req.getCode());
      ExecuteResponse.Builder r =
          ExecuteResponse.newBuilder()
              .setStatus(ExecStatus.EXEC_STATUS_OK)
              .setStdout("3\n")
              .setSessionAlive(true);
      if (req.getCode().contains("plt.show()")) {
        r.addImages(Image.newBuilder().setPng(png(32, 16)).setWidth(32).setHeight(16).build());
      }
      out.onNext(r.build());
      out.onCompleted();
    }

    @Override
    public void closeSession(CloseSessionRequest req, StreamObserver<CloseSessionResponse> out) {
      out.onNext(CloseSessionResponse.newBuilder().setWasOpen(true).build());
      out.onCompleted();
    }

    @Override
    public void getStats(GetStatsRequest req, StreamObserver<SandboxStats> out) {
      out.onNext(SandboxStats.getDefaultInstance());
      out.onCompleted();
    }
  }

  @BeforeEach
  void startSandbox() throws IOException {
    sandbox =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(service)
            .build()
            .start();
  }

  @AfterEach
  void stop() throws InterruptedException {
    sandbox.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    if (openai != null) {
      openai.stop(0);
    }
  }

  @Test
  void printsEveryTurnObservationAnswerEndReasonAndRewardAsJson() throws Exception {
    Path task = task("3", "numeric");
    Path responses =
        Files.writeString(
            dir.resolve("responses.txt"),
            "Count the squares.\n<code>\n"
                + F
                + "python\nimport matplotlib.pyplot as plt\nplt.imshow(image_clue_0)\nplt.show()\nprint(3)\n"
                + F
                + "\n</code>\n----\nThere are three.\n<answer>\\boxed{3}</answer>\n");

    Run r =
        run(
            "rollout",
            "--task",
            task.toString(),
            "--policy",
            "scripted:" + responses,
            "--sandbox",
            "127.0.0.1:" + sandbox.getPort());

    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode t = JSON.readTree(r.out());
    assertThat(t.path("task_id").asText()).isEqualTo("count-1");
    assertThat(t.path("end_reason").asText()).isEqualTo("DONE");
    assertThat(t.path("answer").asText()).isEqualTo("3");
    assertThat(t.path("tool_calls").asInt()).isEqualTo(1);

    JsonNode turns = t.path("turns");
    assertThat(turns).hasSize(2);
    assertThat(turns.get(0).path("text").asText()).startsWith("Count the squares.");
    assertThat(turns.get(0).path("code").asText()).contains("plt.show()");
    JsonNode obs = turns.get(0).path("observation");
    assertThat(obs.path("status").asText()).isEqualTo("OK");
    assertThat(obs.path("stdout").asText()).isEqualTo("3\n");
    assertThat(obs.path("image_count").asInt()).isEqualTo(1);
    assertThat(obs.path("images").get(0).path("width").asInt()).isEqualTo(32);
    assertThat(obs.path("images").get(0).path("height").asInt()).isEqualTo(16);
    assertThat(obs.path("rendered").asText()).contains("<interpreter>");
    assertThat(turns.get(1).has("observation")).isFalse();

    JsonNode reward = t.path("reward");
    assertThat(reward.path("accuracy").asDouble()).isEqualTo(1.0);
    assertThat(reward.path("tool_bonus").asDouble()).isEqualTo(0.1);
    assertThat(reward.path("total").asDouble()).isEqualTo(1.1);
    assertThat(reward.path("extracted_answer").asText()).isEqualTo("3");

    assertThat(service.mediaNames).containsExactly("image_clue_0");
    assertThat(service.executed).hasSize(1);
  }

  @Test
  void withoutSandboxTheCodeRunsInAnEmbeddedRealSandboxThatStopsAfterwards() throws Exception {
    Set<Long> before = descendants();
    Path task = task("24", "numeric");
    Path responses =
        Files.writeString(
            dir.resolve("responses.txt"),
            "Measure the image.\n<code>\n"
                + F
                + "python\nimport matplotlib.pyplot as plt\nw, h = image_clue_0.size\n"
                + "plt.imshow(image_clue_0)\nplt.show()\nprint(w, h)\n"
                + F
                + "\n</code>\n----\n"
                + "Now the width alone.\n<code>\n"
                + F
                + "python\nprint(w)\n"
                + F
                + "\n</code>\n----\nIt is 24 wide.\n<answer>\\boxed{24}</answer>\n");

    Run r = run("rollout", "--task", task.toString(), "--policy", "scripted:" + responses);

    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode t = JSON.readTree(r.out());
    assertThat(t.path("end_reason").asText()).as(r.out()).isEqualTo("DONE");
    JsonNode turns = t.path("turns");
    assertThat(turns).hasSize(3);
    JsonNode first = turns.get(0).path("observation");
    assertThat(first.path("status").asText()).isEqualTo("OK");
    assertThat(first.path("stdout").asText()).isEqualTo("24 20\n");
    assertThat(first.path("image_count").asInt()).isEqualTo(1);
    assertThat(first.path("images").get(0).path("width").asInt()).isPositive();
    assertThat(first.path("images").get(0).path("height").asInt()).isPositive();
    assertThat(first.path("rendered").asText()).contains("Image Result:").contains("24 20");
    // The runtime state persists across turns of the session.
    assertThat(turns.get(1).path("observation").path("stdout").asText()).isEqualTo("24\n");
    assertThat(t.path("tool_calls").asInt()).isEqualTo(2);
    JsonNode reward = t.path("reward");
    assertThat(reward.path("accuracy").asDouble()).isEqualTo(1.0);
    assertThat(reward.path("tool_bonus").asDouble()).isEqualTo(0.2);
    assertThat(reward.path("total").asDouble()).isEqualTo(1.2);
    // The embedded server, its Python runtime and the session are gone.
    assertThat(newLiveDescendants(before)).isEmpty();
  }

  private static Set<Long> descendants() {
    return ProcessHandle.current()
        .descendants()
        .map(ProcessHandle::pid)
        .collect(Collectors.toSet());
  }

  private static List<ProcessHandle> newLiveDescendants(Set<Long> before)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<ProcessHandle> left;
    do {
      left =
          ProcessHandle.current()
              .descendants()
              .filter(p -> !before.contains(p.pid()) && p.isAlive())
              .toList();
      if (left.isEmpty()) {
        return left;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    return left;
  }

  @Test
  void anOpenAiEndpointIsSaidToBeForEvaluationOnly() throws Exception {
    openai = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    openai.createContext(
        "/v1/chat/completions",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          byte[] body =
              """
              {"choices": [{"finish_reason": "stop",
                "message": {"role": "assistant", "content": "<answer>\\\\boxed{3}</answer>"}}]}
              """
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    openai.start();

    Run r =
        run(
            "rollout",
            "--task",
            task("3", "exact").toString(),
            "--policy",
            "openai:http://127.0.0.1:" + openai.getAddress().getPort() + "/v1",
            "--policy-model",
            "served-model",
            "--sandbox",
            "127.0.0.1:" + sandbox.getPort());

    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("evaluation").contains("not for training");
    JsonNode t = JSON.readTree(r.out());
    assertThat(t.path("end_reason").asText()).isEqualTo("DONE");
    assertThat(t.path("reward").path("total").asDouble()).isEqualTo(1.0);
  }

  @Test
  void anUnreachableSandboxIsAnUnscoredInfrastructureFailure() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    Path responses =
        Files.writeString(
            dir.resolve("r.txt"), "<code>\n" + F + "python\nprint(3)\n" + F + "\n</code>\n");

    Run r =
        run(
            "rollout",
            "--task",
            task("3", "exact").toString(),
            "--policy",
            "scripted:" + responses,
            "--sandbox",
            "127.0.0.1:" + closedPort);

    assertThat(r.exitCode()).isEqualTo(4);
    JsonNode t = JSON.readTree(r.out());
    assertThat(t.path("end_reason").asText()).isEqualTo("SANDBOX_FAILURE");
    assertThat(t.path("reward").isNull()).isTrue();
    assertThat(t.path("message").asText()).isNotEmpty();
  }

  @Test
  void aMissingTaskFileIsNamed() {
    Path missing = dir.resolve("nope.json");
    Run r =
        run(
            "rollout",
            "--task",
            missing.toString(),
            "--policy",
            "scripted:" + missing,
            "--sandbox",
            "127.0.0.1:" + sandbox.getPort());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo("farm: " + missing + ": task file not found" + System.lineSeparator());
  }

  private Path task(String answer, String verifier) throws IOException {
    BufferedImage image = new BufferedImage(24, 20, BufferedImage.TYPE_INT_RGB);
    ImageIO.write(image, "png", dir.resolve("squares.png").toFile());
    return Files.writeString(
        dir.resolve("task.json"),
        """
        {"id": "count-1", "question": "How many squares are there?", "answer": "%s",
         "images": ["squares.png"], "verifier": "%s"}
        """
            .formatted(answer, verifier));
  }

  private static ByteString png(int width, int height) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB), "png", out);
      return ByteString.copyFrom(out.toByteArray());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Run run(String... args) {
    CommandLine cl = FarmCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }
}

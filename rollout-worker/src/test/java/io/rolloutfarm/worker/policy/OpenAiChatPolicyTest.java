package io.rolloutfarm.worker.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.AgentLoop;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.testing.FakeSandbox;
import io.rolloutfarm.worker.testing.InProcess;
import io.rolloutfarm.worker.testing.Tasks;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OpenAiChatPolicyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  private HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  /** A chat-completions server that strips stop strings, as vLLM does by default. */
  private URI serve(List<String> replies, int status) throws Exception {
    AtomicInteger n = new AtomicInteger();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/chat/completions",
        exchange -> {
          JsonNode req = JSON.readTree(exchange.getRequestBody());
          requests.add(req);
          String reply = replies.get(Math.min(n.getAndIncrement(), replies.size() - 1));
          boolean stopped = reply.endsWith("</code>");
          String content = stopped ? reply.substring(0, reply.length() - 7) : reply;
          String body =
              JSON.createObjectNode()
                  .set(
                      "choices",
                      JSON.createArrayNode()
                          .add(
                              JSON.createObjectNode()
                                  .put("finish_reason", "stop")
                                  .set(
                                      "message",
                                      JSON.createObjectNode()
                                          .put("role", "assistant")
                                          .put("content", content))))
                  .toString();
          byte[] bytes =
              (status == 200 ? body : "{\"error\":\"overloaded\"}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(status, bytes.length);
          exchange.getResponseBody().write(bytes);
          exchange.close();
        });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
  }

  @Test
  void sendsChatMessagesWithImagesAndRestoresTheStrippedStopString() throws Exception {
    URI base =
        serve(
            List.of(
                "Look.\n<code>\n```python\nprint('2')\nplt.show()\n```\n</code>",
                "<answer>\\boxed{2}</answer>"),
            200);
    OpenAiChatPolicy policy = new OpenAiChatPolicy(base, "qwen-vl", "k", Duration.ofSeconds(10));
    assertThat(policy.facts().trainable()).isFalse();
    FakeSandbox sandbox = new FakeSandbox();
    try (InProcess sandboxServer = new InProcess(sandbox);
        GrpcSandboxes sandboxes =
            GrpcSandboxes.ofChannels(
                Map.of("s", sandboxServer.channel), GrpcSandboxes.Deadlines.defaults(), 0)) {
      Trajectory t =
          new AgentLoop(policy, sandboxes, AgentSettings.defaults(), WorkerMetrics.inMemory())
              .run(Tasks.imageTask("t", "2", "numeric"));
      assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
      assertThat(t.getTurns(0).getText()).endsWith("```\n</code>");
      assertThat(sandbox.executed).containsExactly("print('2')\nplt.show()\n");
    }
    JsonNode second = requests.get(1);
    assertThat(second.path("model").asText()).isEqualTo("qwen-vl");
    assertThat(second.path("stop").get(0).asText()).isEqualTo("</code>");
    JsonNode messages = second.path("messages");
    assertThat(messages).hasSize(4);
    assertThat(messages.get(0).path("role").asText()).isEqualTo("system");
    assertThat(messages.get(1).path("role").asText()).isEqualTo("user");
    assertThat(messages.get(1).path("content").get(1).path("image_url").path("url").asText())
        .startsWith("data:image/png;base64,");
    assertThat(messages.get(2).path("role").asText()).isEqualTo("assistant");
    assertThat(messages.get(2).path("content").asText()).endsWith("</code>");
    JsonNode observation = messages.get(3);
    assertThat(observation.path("role").asText()).isEqualTo("user");
    assertThat(observation.path("content").get(0).path("text").asText())
        .startsWith("<interpreter>Text Result:\n2\n");
    assertThat(observation.path("content").get(1).path("type").asText()).isEqualTo("image_url");
  }

  @Test
  void overloadedServersAreRetryableFailures() throws Exception {
    URI base = serve(List.of("x"), 503);
    OpenAiChatPolicy policy = new OpenAiChatPolicy(base, "m", null, Duration.ofSeconds(10));
    io.rolloutfarm.worker.agent.Context ctx = new io.rolloutfarm.worker.agent.Context(1);
    assertThatThrownBy(
            () -> policy.generate(ctx, new Sampling(1, 1, 10, List.of("</code>"), 0), "r"))
        .isInstanceOfSatisfying(PolicyFailure.class, f -> assertThat(f.retryable()).isTrue())
        .hasMessageContaining("HTTP 503");
  }
}

package io.rolloutfarm.worker.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.worker.agent.Context;
import io.rolloutfarm.worker.agent.Context.Message;
import io.rolloutfarm.worker.agent.Context.Picture;
import io.rolloutfarm.worker.agent.Context.Piece;
import io.rolloutfarm.worker.agent.Context.Text;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;

/**
 * An OpenAI-compatible chat-completions endpoint (vLLM, SGLang and the like), for rolling out with
 * an external inference fleet.
 *
 * <p><b>Evaluation only.</b> Such endpoints take messages and return text: the token ids in the
 * trajectory are this worker's {@link ByteTokenizer} encoding of the text, not the ids the model
 * sampled, and no per-token sampling logprobs are recorded. Trajectories made this way can be used
 * to evaluate a model but not to train it; the policy reports {@code trainable = false}.
 */
public final class OpenAiChatPolicy implements Policy {
  /** What users are told when they pick this backend. */
  public static final String EVALUATION_ONLY =
      "trajectories from a chat-completions endpoint hold re-tokenized text and no sampling "
          + "logprobs: use them for evaluation, not for training";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI completions;
  private final String model;
  private final String apiKey;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * @param baseUrl the API root, e.g. {@code http://vllm:8000/v1}
   * @param model the served model's name
   * @param apiKey bearer token, or null
   */
  public OpenAiChatPolicy(URI baseUrl, String model, String apiKey, Duration timeout) {
    String base = baseUrl.toString();
    this.completions = URI.create((base.endsWith("/") ? base : base + "/") + "chat/completions");
    this.model = model;
    this.apiKey = apiKey;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  @Override
  public PolicyFacts facts() {
    return new PolicyFacts(
        model, 0, ByteTokenizer.IMAGE_TOKEN, ByteTokenizer.EOS_TOKEN, 0, 1, false);
  }

  @Override
  public int[] tokenize(String text) {
    return ByteTokenizer.encode(text);
  }

  @Override
  public Generation generate(Context context, Sampling sampling, String requestId)
      throws PolicyFailure {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", model);
    ArrayNode messages = body.putArray("messages");
    for (Message m : context.messages()) {
      messages.add(message(m));
    }
    body.put("max_tokens", sampling.maxNewTokens());
    body.put("temperature", sampling.temperature());
    if (sampling.topP() > 0) {
      body.put("top_p", sampling.topP());
    }
    if (sampling.seed() != 0) {
      body.put("seed", sampling.seed());
    }
    ArrayNode stop = body.putArray("stop");
    sampling.stop().forEach(stop::add);
    // vLLM extension; servers that do not know it ignore it, and the stop string is restored below.
    body.put("include_stop_str_in_output", true);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(completions)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header("X-Request-Id", requestId)
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (apiKey != null && !apiKey.isBlank()) {
      request.header("Authorization", "Bearer " + apiKey);
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new PolicyFailure("POST " + completions + ": " + e, e, true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.util.concurrent.CancellationException("trajectory cancelled");
    }
    int status = response.statusCode();
    if (status != 200) {
      String excerpt =
          response.body().length() > 300 ? response.body().substring(0, 300) : response.body();
      boolean retryable = status == 429 || status >= 500;
      throw new PolicyFailure(
          "POST " + completions + ": HTTP " + status + ": " + excerpt, null, retryable);
    }
    try {
      JsonNode choice = JSON.readTree(response.body()).path("choices").path(0);
      String text = choice.path("message").path("content").asText("");
      String finishText = choice.path("finish_reason").asText("");
      FinishReason finish =
          switch (finishText) {
            case "length" -> FinishReason.FINISH_REASON_LENGTH;
            case "stop" -> FinishReason.FINISH_REASON_STOP;
            default -> FinishReason.FINISH_REASON_EOS;
          };
      if (finish == FinishReason.FINISH_REASON_STOP) {
        text = restoreStop(text, sampling);
      }
      int[] ids = ByteTokenizer.encode(text);
      return new Generation(ids, new float[ids.length], text, 0, finish);
    } catch (IOException e) {
      throw new PolicyFailure("POST " + completions + ": response is not JSON: " + e, e, true);
    }
  }

  /** Servers strip the stop string by default; put {@code </code>} back after an open block. */
  static String restoreStop(String text, Sampling sampling) {
    for (String stop : sampling.stop()) {
      if (text.endsWith(stop)) {
        return text;
      }
    }
    if (sampling.stop().contains("</code>")
        && text.lastIndexOf("<code>") > text.lastIndexOf("</code>")) {
      return text + "</code>";
    }
    return text;
  }

  private static ObjectNode message(Message m) {
    ObjectNode node = JSON.createObjectNode();
    node.put(
        "role",
        switch (m.role()) {
          case SYSTEM -> "system";
          case ASSISTANT -> "assistant";
          case USER, OBSERVATION -> "user";
        });
    boolean hasImages = m.pieces().stream().anyMatch(p -> p instanceof Picture);
    if (!hasImages) {
      StringBuilder text = new StringBuilder();
      m.pieces().forEach(p -> text.append(((Text) p).text()));
      node.put("content", text.toString());
      return node;
    }
    ArrayNode content = node.putArray("content");
    for (Piece p : m.pieces()) {
      switch (p) {
        case Text t -> content.addObject().put("type", "text").put("text", t.text());
        case Picture pic ->
            content
                .addObject()
                .put("type", "image_url")
                .putObject("image_url")
                .put(
                    "url",
                    "data:image/png;base64,"
                        + Base64.getEncoder().encodeToString(pic.image().getPng().toByteArray()));
      }
    }
    return node;
  }

  @Override
  public String describe() {
    return "chat-completions endpoint " + completions + " (model " + model + ")";
  }
}

package io.rolloutfarm.worker.policy;

import io.grpc.ManagedChannel;
import io.rolloutfarm.worker.RolloutWorker;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Builds a policy from its command-line spelling:
 *
 * <ul>
 *   <li>{@code HOST:PORT} or any gRPC target: the learner's {@code PolicyService};
 *   <li>{@code scripted:FILE}: responses replayed from a file ({@link ScriptedPolicy});
 *   <li>{@code openai:URL}: an OpenAI-compatible chat-completions API root such as {@code
 *       http://vllm:8000/v1} ({@link OpenAiChatPolicy}; evaluation only). The model name comes from
 *       {@code model}, the key from {@code OPENAI_API_KEY}.
 * </ul>
 */
public final class PolicyBackends {
  /** Generation deadline of gRPC and HTTP backends. */
  public static final Duration GENERATE_DEADLINE = Duration.ofMinutes(10);

  private PolicyBackends() {}

  /**
   * Opens a policy.
   *
   * @param model model name for {@code openai:} endpoints (ignored otherwise)
   */
  public static Policy open(String spec, String model) throws PolicyFailure {
    if (spec.startsWith("scripted:")) {
      String file = spec.substring("scripted:".length());
      if (file.isBlank()) {
        throw new IllegalArgumentException("--policy scripted:FILE needs a file name");
      }
      return ScriptedPolicy.load(Path.of(file));
    }
    if (spec.startsWith("openai:")) {
      String url = spec.substring("openai:".length());
      if (!url.startsWith("http://") && !url.startsWith("https://")) {
        throw new IllegalArgumentException(
            "--policy openai:URL needs an http(s) URL such as openai:http://vllm:8000/v1, got '"
                + url
                + "'");
      }
      if (model == null || model.isBlank()) {
        throw new IllegalArgumentException("--policy openai:URL needs --policy-model NAME");
      }
      return new OpenAiChatPolicy(
          URI.create(url), model, System.getenv("OPENAI_API_KEY"), GENERATE_DEADLINE);
    }
    if (spec.isBlank()) {
      throw new IllegalArgumentException("policy address is empty");
    }
    ManagedChannel channel = RolloutWorker.channel(spec);
    try {
      GrpcPolicy policy = new GrpcPolicy(channel, spec, GENERATE_DEADLINE);
      return new ClosingPolicy(policy, channel);
    } catch (PolicyFailure | RuntimeException e) {
      channel.shutdownNow();
      throw e;
    }
  }

  /** A gRPC policy that shuts its channel down on close. */
  private record ClosingPolicy(GrpcPolicy delegate, ManagedChannel channel) implements Policy {
    @Override
    public PolicyFacts facts() {
      return delegate.facts();
    }

    @Override
    public int[] tokenize(String text) throws PolicyFailure {
      return delegate.tokenize(text);
    }

    @Override
    public Generation generate(
        io.rolloutfarm.worker.agent.Context context, Sampling sampling, String requestId)
        throws PolicyFailure {
      return delegate.generate(context, sampling, requestId);
    }

    @Override
    public String describe() {
      return delegate.describe();
    }

    @Override
    public void close() {
      channel.shutdownNow();
    }
  }
}

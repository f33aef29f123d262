package io.rolloutfarm.worker.policy;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.proto.v1.GenerateRequest;
import io.rolloutfarm.proto.v1.GenerateResponse;
import io.rolloutfarm.proto.v1.GetPolicyInfoRequest;
import io.rolloutfarm.proto.v1.PolicyInfo;
import io.rolloutfarm.proto.v1.PolicyServiceGrpc;
import io.rolloutfarm.proto.v1.PolicyServiceGrpc.PolicyServiceBlockingStub;
import io.rolloutfarm.proto.v1.SamplingParams;
import io.rolloutfarm.proto.v1.TokenizeRequest;
import io.rolloutfarm.worker.agent.Context;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import java.time.Duration;
import java.util.concurrent.CancellationException;

/**
 * The learner's {@code PolicyService}: token-in/token-out, so the trajectory holds exactly the
 * sampled tokens and their logprobs. UNAVAILABLE (an engine restarting) is retried a few times with
 * backoff inside one call before it becomes a {@link PolicyFailure}.
 */
public final class GrpcPolicy implements Policy {
  static final int ATTEMPTS = 3;

  private final PolicyServiceBlockingStub stub;
  private final String address;
  private final Duration generateDeadline;
  private final Duration shortDeadline = Duration.ofSeconds(30);
  private final PolicyFacts facts;

  /** Connects and reads the policy's facts; fails when the policy cannot be reached. */
  public GrpcPolicy(Channel channel, String address, Duration generateDeadline)
      throws PolicyFailure {
    this.stub = PolicyServiceGrpc.newBlockingStub(channel);
    this.address = address;
    this.generateDeadline = generateDeadline;
    PolicyInfo info =
        call(
            "GetPolicyInfo",
            () ->
                stub.withDeadlineAfter(shortDeadline)
                    .getPolicyInfo(GetPolicyInfoRequest.getDefaultInstance()));
    this.facts =
        new PolicyFacts(
            info.getModelName(),
            info.getPolicyVersion(),
            info.getImageTokenId(),
            info.getEosTokenId(),
            (int) Math.min(Integer.MAX_VALUE, info.getMaxContextTokens()),
            (int) info.getTokensPerImage(),
            info.getTrainable());
  }

  @Override
  public PolicyFacts facts() {
    return facts;
  }

  @Override
  public int[] tokenize(String text) throws PolicyFailure {
    return call(
            "Tokenize",
            () ->
                stub.withDeadlineAfter(shortDeadline)
                    .tokenize(TokenizeRequest.newBuilder().setText(text).build()))
        .getTokenIdsList()
        .stream()
        .mapToInt(Integer::intValue)
        .toArray();
  }

  @Override
  public Generation generate(Context context, Sampling sampling, String requestId)
      throws PolicyFailure {
    GenerateRequest.Builder request =
        GenerateRequest.newBuilder()
            .addAllImages(context.images())
            .setRequestId(requestId)
            .setParams(
                SamplingParams.newBuilder()
                    .setTemperature(sampling.temperature())
                    .setTopP(sampling.topP())
                    .setMaxNewTokens(sampling.maxNewTokens())
                    .addAllStop(sampling.stop())
                    .setSeed(sampling.seed()));
    for (int id : context.tokenIds()) {
      request.addPromptTokenIds(id);
    }
    GenerateRequest built = request.build();
    GenerateResponse response;
    try {
      response = call("Generate", () -> stub.withDeadlineAfter(generateDeadline).generate(built));
    } catch (PolicyFailure f) {
      if (f.getCause() instanceof StatusRuntimeException e
          && e.getStatus().getCode() == Status.Code.OUT_OF_RANGE) {
        // The context outgrew the model: the trajectory is over length, not broken.
        return new Generation(
            new int[0], new float[0], "", facts.policyVersion(), FinishReason.FINISH_REASON_LENGTH);
      }
      throw f;
    }
    int[] ids = response.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
    float[] lps = new float[response.getLogprobsCount()];
    for (int i = 0; i < lps.length; i++) {
      lps[i] = response.getLogprobs(i);
    }
    if (ids.length != lps.length) {
      throw new PolicyFailure(
          "policy "
              + address
              + " returned "
              + ids.length
              + " tokens but "
              + lps.length
              + " logprobs",
          null,
          false);
    }
    return new Generation(
        ids, lps, response.getText(), response.getPolicyVersion(), response.getFinishReason());
  }

  @Override
  public String describe() {
    return "policy service at " + address;
  }

  private interface Rpc<T> {
    T call();
  }

  private <T> T call(String method, Rpc<T> rpc) throws PolicyFailure {
    StatusRuntimeException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        return rpc.call();
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.CANCELLED
            && Thread.currentThread().isInterrupted()) {
          CancellationException c = new CancellationException("trajectory cancelled");
          c.initCause(e);
          throw c;
        }
        last = e;
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
          break;
        }
        try {
          Thread.sleep(200L << attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new CancellationException("trajectory cancelled");
        }
      }
    }
    boolean retryable =
        last.getStatus().getCode() != Status.Code.INVALID_ARGUMENT
            && last.getStatus().getCode() != Status.Code.UNIMPLEMENTED;
    throw new PolicyFailure(method + " on " + address + ": " + last.getStatus(), last, retryable);
  }
}

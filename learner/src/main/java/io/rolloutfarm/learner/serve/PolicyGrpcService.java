package io.rolloutfarm.learner.serve;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.learner.engine.Engine;
import io.rolloutfarm.proto.v1.EngineInfo;
import io.rolloutfarm.proto.v1.GenerateRequest;
import io.rolloutfarm.proto.v1.GenerateResponse;
import io.rolloutfarm.proto.v1.GetPolicyInfoRequest;
import io.rolloutfarm.proto.v1.PolicyInfo;
import io.rolloutfarm.proto.v1.PolicyServiceGrpc;
import io.rolloutfarm.proto.v1.SampleItem;
import io.rolloutfarm.proto.v1.TokenizeRequest;
import io.rolloutfarm.proto.v1.TokenizeResponse;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * PolicyService: serves the current policy to rollout workers. Generation requests go through
 * {@link GenerateBatcher}; token-level validation happens here so that a bad request fails alone
 * instead of failing a whole engine batch.
 */
public final class PolicyGrpcService extends PolicyServiceGrpc.PolicyServiceImplBase {
  private final Engine engine;
  private final GenerateBatcher batcher;
  private final Supplier<EngineInfo> info;
  private final LongSupplier policyVersion;

  /**
   * @param info the engine's facts (cached; null until the engine has started)
   * @param policyVersion the current policy version
   */
  public PolicyGrpcService(
      Engine engine,
      GenerateBatcher batcher,
      Supplier<EngineInfo> info,
      LongSupplier policyVersion) {
    this.engine = engine;
    this.batcher = batcher;
    this.info = info;
    this.policyVersion = policyVersion;
  }

  private EngineInfo requireInfo() {
    EngineInfo i = info.get();
    if (i == null) {
      throw Status.UNAVAILABLE
          .withDescription("the policy engine is still starting; retry shortly")
          .asRuntimeException();
    }
    return i;
  }

  @Override
  public void getPolicyInfo(GetPolicyInfoRequest request, StreamObserver<PolicyInfo> out) {
    try {
      EngineInfo i = requireInfo();
      out.onNext(
          PolicyInfo.newBuilder()
              .setModelName(i.getModelName())
              .setPolicyVersion(policyVersion.getAsLong())
              .setImageTokenId(i.getImageTokenId())
              .setEosTokenId(i.getEosTokenId())
              .setMaxContextTokens(i.getMaxContextTokens())
              .setTokensPerImage(i.getTokensPerImage())
              .setTrainable(true)
              .build());
      out.onCompleted();
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
    }
  }

  @Override
  public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> out) {
    try {
      out.onNext(engine.tokenize(request.getText()));
      out.onCompleted();
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
    }
  }

  @Override
  public void generate(GenerateRequest request, StreamObserver<GenerateResponse> out) {
    try {
      validate(request, requireInfo());
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
      return;
    }
    SampleItem item =
        SampleItem.newBuilder()
            .addAllPromptTokenIds(request.getPromptTokenIdsList())
            .addAllImages(request.getImagesList())
            .setParams(request.getParams())
            .build();
    batcher
        .submit(item)
        .whenComplete(
            (result, error) -> {
              if (error != null) {
                out.onError(GrpcErrors.toStatus(error));
                return;
              }
              out.onNext(
                  GenerateResponse.newBuilder()
                      .addAllTokenIds(result.result().getTokenIdsList())
                      .addAllLogprobs(result.result().getLogprobsList())
                      .setText(result.result().getText())
                      .setPolicyVersion(result.policyVersion())
                      .setFinishReason(result.result().getFinishReason())
                      .setMatchedStop(result.result().getMatchedStop())
                      .build());
              out.onCompleted();
            });
  }

  static void validate(GenerateRequest request, EngineInfo info) {
    if (request.getPromptTokenIdsCount() == 0) {
      throw Status.INVALID_ARGUMENT
          .withDescription("prompt_token_ids is empty")
          .asRuntimeException();
    }
    long placeholders =
        request.getPromptTokenIdsList().stream().filter(t -> t == info.getImageTokenId()).count();
    if (placeholders != request.getImagesCount()) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "prompt_token_ids has "
                  + placeholders
                  + " image placeholders (token "
                  + info.getImageTokenId()
                  + ") but "
                  + request.getImagesCount()
                  + " images were sent")
          .asRuntimeException();
    }
    double topP = request.getParams().getTopP();
    if (request.getParams().getTemperature() < 0 || topP < 0 || topP > 1) {
      throw Status.INVALID_ARGUMENT
          .withDescription("temperature must be >= 0 and top_p in [0, 1]")
          .asRuntimeException();
    }
    long context =
        request.getPromptTokenIdsCount()
            + placeholders * Math.max(0, (long) info.getTokensPerImage() - 1);
    if (info.getMaxContextTokens() > 0 && context >= info.getMaxContextTokens()) {
      throw Status.OUT_OF_RANGE
          .withDescription(
              "context of "
                  + context
                  + " tokens (images count "
                  + info.getTokensPerImage()
                  + " each) leaves no room under the model's limit of "
                  + info.getMaxContextTokens())
          .asRuntimeException();
    }
  }
}

package io.rolloutfarm.worker.bench;

import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.proto.v1.GenerateRequest;
import io.rolloutfarm.proto.v1.GenerateResponse;
import io.rolloutfarm.proto.v1.GetPolicyInfoRequest;
import io.rolloutfarm.proto.v1.PolicyInfo;
import io.rolloutfarm.proto.v1.PolicyServiceGrpc;
import io.rolloutfarm.proto.v1.TokenizeRequest;
import io.rolloutfarm.proto.v1.TokenizeResponse;
import io.rolloutfarm.worker.policy.ByteTokenizer;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A policy server with a fixed generation latency: turns 1..n-1 write a small code block, turn n
 * answers. Replies are scheduled on a timer, so thousands of generations wait at once without a
 * thread each. Uses the byte tokenizer.
 */
public final class SimulatedPolicyService extends PolicyServiceGrpc.PolicyServiceImplBase {
  static final String CODE_TURN =
      "Let me measure it.\n<code>\n```python\nprint(image_clue_0.size)\n```\n</code>";
  static final String ANSWER_TURN = "The size is known.\n<answer>\\boxed{1}</answer>";

  private final long latencyMs;
  private final int turns;
  private final ScheduledExecutorService timer;
  private final GenerateResponse code;
  private final GenerateResponse answer;

  /**
   * @param turns generations per trajectory (the last one answers)
   */
  public SimulatedPolicyService(long latencyMs, int turns, ScheduledExecutorService timer) {
    this.latencyMs = latencyMs;
    this.turns = turns;
    this.timer = timer;
    this.code = response(CODE_TURN, FinishReason.FINISH_REASON_STOP);
    this.answer = response(ANSWER_TURN, FinishReason.FINISH_REASON_EOS);
  }

  private static GenerateResponse response(String text, FinishReason finish) {
    GenerateResponse.Builder r =
        GenerateResponse.newBuilder().setText(text).setPolicyVersion(1).setFinishReason(finish);
    for (int id : ByteTokenizer.encode(text)) {
      r.addTokenIds(id).addLogprobs(-0.25f);
    }
    return r.build();
  }

  @Override
  public void getPolicyInfo(GetPolicyInfoRequest req, StreamObserver<PolicyInfo> out) {
    out.onNext(
        PolicyInfo.newBuilder()
            .setModelName("simulated")
            .setPolicyVersion(1)
            .setImageTokenId(ByteTokenizer.IMAGE_TOKEN)
            .setEosTokenId(ByteTokenizer.EOS_TOKEN)
            .setMaxContextTokens(1 << 20)
            .setTokensPerImage(1)
            .setTrainable(true)
            .build());
    out.onCompleted();
  }

  @Override
  public void tokenize(TokenizeRequest req, StreamObserver<TokenizeResponse> out) {
    TokenizeResponse.Builder r = TokenizeResponse.newBuilder();
    for (int id : ByteTokenizer.encode(req.getText())) {
      r.addTokenIds(id);
    }
    out.onNext(r.build());
    out.onCompleted();
  }

  @Override
  public void generate(GenerateRequest req, StreamObserver<GenerateResponse> out) {
    // The worker names requests ".../tN"; turn N < turns writes code, the last one answers.
    String id = req.getRequestId();
    int turn = Integer.parseInt(id.substring(id.lastIndexOf("/t") + 2));
    GenerateResponse reply = turn >= turns ? answer : code;
    timer.schedule(
        () -> {
          out.onNext(reply);
          out.onCompleted();
        },
        latencyMs,
        TimeUnit.MILLISECONDS);
  }
}

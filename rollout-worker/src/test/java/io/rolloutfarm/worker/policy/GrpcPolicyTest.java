package io.rolloutfarm.worker.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.proto.v1.GenerateRequest;
import io.rolloutfarm.proto.v1.GenerateResponse;
import io.rolloutfarm.proto.v1.GetPolicyInfoRequest;
import io.rolloutfarm.proto.v1.PolicyInfo;
import io.rolloutfarm.proto.v1.PolicyServiceGrpc;
import io.rolloutfarm.proto.v1.TokenizeRequest;
import io.rolloutfarm.proto.v1.TokenizeResponse;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.AgentLoop;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.testing.FakeSandbox;
import io.rolloutfarm.worker.testing.InProcess;
import io.rolloutfarm.worker.testing.Tasks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class GrpcPolicyTest {
  /**
   * A policy server whose tokenizer is the byte tokenizer shifted by 1000 (so that any worker-side
   * re-tokenization would show) and whose generations come from a script, with logprobs -0.5.
   */
  static final class ScriptedPolicyService extends PolicyServiceGrpc.PolicyServiceImplBase {
    final List<String> replies;
    final List<GenerateRequest> requests = new CopyOnWriteArrayList<>();
    final AtomicInteger unavailableFirst = new AtomicInteger();

    ScriptedPolicyService(List<String> replies) {
      this.replies = replies;
    }

    static int[] encode(String text) {
      int[] ids = ByteTokenizer.encode(text);
      for (int i = 0; i < ids.length; i++) {
        ids[i] += 1000;
      }
      return ids;
    }

    @Override
    public void getPolicyInfo(GetPolicyInfoRequest req, StreamObserver<PolicyInfo> out) {
      out.onNext(
          PolicyInfo.newBuilder()
              .setModelName("fake")
              .setPolicyVersion(7)
              .setImageTokenId(5)
              .setEosTokenId(6)
              .setMaxContextTokens(100_000)
              .setTokensPerImage(16)
              .setTrainable(true)
              .build());
      out.onCompleted();
    }

    @Override
    public void tokenize(TokenizeRequest req, StreamObserver<TokenizeResponse> out) {
      TokenizeResponse.Builder r = TokenizeResponse.newBuilder();
      for (int id : encode(req.getText())) {
        r.addTokenIds(id);
      }
      out.onNext(r.build());
      out.onCompleted();
    }

    @Override
    public void generate(GenerateRequest req, StreamObserver<GenerateResponse> out) {
      if (unavailableFirst.getAndDecrement() > 0) {
        out.onError(Status.UNAVAILABLE.withDescription("engine restarting").asRuntimeException());
        return;
      }
      requests.add(req);
      String text = replies.get(requests.size() - 1);
      GenerateResponse.Builder r =
          GenerateResponse.newBuilder()
              .setText(text)
              .setPolicyVersion(7 + requests.size())
              .setFinishReason(
                  text.endsWith("</code>")
                      ? FinishReason.FINISH_REASON_STOP
                      : FinishReason.FINISH_REASON_EOS);
      for (int id : encode(text)) {
        r.addTokenIds(id).addLogprobs(-0.5f);
      }
      out.onNext(r.build());
      out.onCompleted();
    }
  }

  @Test
  void trajectoryHoldsExactlyTheServedTokensAndNeverReTokenizesEarlierTurns() throws Exception {
    String turn1 = "<code>\n```python\nprint('3')\nplt.show()\n```\n</code>";
    String turn2 = "<answer>\\boxed{3}</answer>";
    ScriptedPolicyService service = new ScriptedPolicyService(List.of(turn1, turn2));
    service.unavailableFirst.set(1);
    FakeSandbox sandbox = new FakeSandbox();
    try (InProcess policyServer = new InProcess(service);
        InProcess sandboxServer = new InProcess(sandbox);
        GrpcSandboxes sandboxes =
            GrpcSandboxes.ofChannels(
                Map.of("s", sandboxServer.channel), GrpcSandboxes.Deadlines.defaults(), 0)) {
      GrpcPolicy policy = new GrpcPolicy(policyServer.channel, "inproc", Duration.ofSeconds(10));
      assertThat(policy.facts().trainable()).isTrue();
      assertThat(policy.facts().imageTokenId()).isEqualTo(5);
      Trajectory t =
          new AgentLoop(policy, sandboxes, AgentSettings.defaults(), WorkerMetrics.inMemory())
              .run(Tasks.imageTask("t", "3", "numeric"));

      assertThat(t.getEndReason()).isEqualTo(EndReason.END_REASON_DONE);
      assertThat(t.getPolicyVersion()).isEqualTo(8);
      assertThat(t.getTurns(1).getPolicyVersion()).isEqualTo(9);
      // The second request's context starts with the first one's, then the exact sampled tokens.
      GenerateRequest first = service.requests.get(0);
      GenerateRequest second = service.requests.get(1);
      List<Integer> firstPrompt = first.getPromptTokenIdsList();
      assertThat(second.getPromptTokenIdsList().subList(0, firstPrompt.size()))
          .isEqualTo(firstPrompt);
      List<Integer> sampled =
          second
              .getPromptTokenIdsList()
              .subList(firstPrompt.size(), firstPrompt.size() + turn1.getBytes().length);
      assertThat(sampled)
          .isEqualTo(java.util.Arrays.stream(ScriptedPolicyService.encode(turn1)).boxed().toList());
      // One image placeholder per image, images passed in order: task image, then the plot.
      assertThat(first.getImagesCount()).isEqualTo(1);
      assertThat(second.getImagesCount()).isEqualTo(2);
      assertThat(second.getPromptTokenIdsList().stream().filter(i -> i == 5).count()).isEqualTo(2);
      assertThat(second.getParams().getStopList()).containsExactly("</code>");
      // Logprobs are the served ones on generated tokens and 0 elsewhere.
      for (int i = 0; i < t.getTokenIdsCount(); i++) {
        assertThat(t.getLogprobs(i)).isEqualTo(t.getLossMask(i) == 1 ? -0.5f : 0f);
      }
      // The full trajectory is the last request's context plus the final turn.
      assertThat(t.getTokenIdsList().subList(0, second.getPromptTokenIdsCount()))
          .isEqualTo(second.getPromptTokenIdsList());
      assertThat(t.getTokenIdsCount())
          .isEqualTo(second.getPromptTokenIdsCount() + turn2.getBytes().length);
    }
  }

  @Test
  void unreachablePolicyIsATypedFailure() throws Exception {
    InProcess gone = new InProcess(new ScriptedPolicyService(List.of()));
    gone.kill();
    try {
      assertThatThrownBy(() -> new GrpcPolicy(gone.channel, "gone:1", Duration.ofSeconds(1)))
          .isInstanceOf(PolicyFailure.class)
          .hasMessageContaining("GetPolicyInfo on gone:1")
          .hasMessageContaining("UNAVAILABLE");
    } finally {
      gone.close();
    }
  }
}

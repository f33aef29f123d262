package io.rolloutfarm.worker.policy;

import io.rolloutfarm.proto.v1.FinishReason;

/** One generated turn: the sampled tokens, their logprobs, the text and why it stopped. */
public record Generation(
    int[] tokenIds, float[] logprobs, String text, long policyVersion, FinishReason finish) {
  public Generation {
    if (tokenIds.length != logprobs.length) {
      throw new IllegalArgumentException(
          "policy returned " + tokenIds.length + " tokens but " + logprobs.length + " logprobs");
    }
  }
}

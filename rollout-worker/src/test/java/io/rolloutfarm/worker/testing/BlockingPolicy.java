package io.rolloutfarm.worker.testing;

import io.rolloutfarm.worker.agent.Context;
import io.rolloutfarm.worker.policy.ByteTokenizer;
import io.rolloutfarm.worker.policy.Generation;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.policy.PolicyFacts;
import io.rolloutfarm.worker.policy.Sampling;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A policy whose generations wait until released (or interrupted), then answer "1". */
public class BlockingPolicy implements Policy {
  public final CountDownLatch gate = new CountDownLatch(1);
  public final AtomicInteger waiting = new AtomicInteger();

  @Override
  public PolicyFacts facts() {
    return new PolicyFacts(
        "blocking", 0, ByteTokenizer.IMAGE_TOKEN, ByteTokenizer.EOS_TOKEN, 0, 1, false);
  }

  @Override
  public int[] tokenize(String text) {
    return ByteTokenizer.encode(text);
  }

  @Override
  public Generation generate(Context context, Sampling sampling, String requestId) {
    waiting.incrementAndGet();
    try {
      gate.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationException("interrupted");
    } finally {
      waiting.decrementAndGet();
    }
    String text = "<answer>\\boxed{1}</answer>";
    int[] ids = ByteTokenizer.encode(text);
    return new Generation(
        ids,
        new float[ids.length],
        text,
        3,
        io.rolloutfarm.proto.v1.FinishReason.FINISH_REASON_EOS);
  }

  @Override
  public String describe() {
    return "blocking";
  }
}

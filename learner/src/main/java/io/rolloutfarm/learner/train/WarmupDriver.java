package io.rolloutfarm.learner.train;

import io.rolloutfarm.learner.engine.Engine;
import io.rolloutfarm.learner.engine.EngineUnavailableException;
import io.rolloutfarm.learner.metrics.StepMetrics;
import io.rolloutfarm.proto.v1.SupervisedSequence;
import io.rolloutfarm.proto.v1.SupervisedStepRequest;
import io.rolloutfarm.proto.v1.SupervisedStepResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Behaviour-cloning warm-up: {@code steps} supervised updates, each over {@code batchSize}
 * demonstrations drawn epoch by epoch in a seeded shuffle.
 */
public final class WarmupDriver {
  private static final int MAX_RETRIES = 3;

  private final Engine engine;
  private final List<Demonstration> demonstrations;
  private final int batchSize;
  private final double learningRate;
  private final double maxGradNorm;
  private final SplittableRandom random;
  private final Consumer<StepMetrics> publish;
  private int[] order;
  private int position;

  public WarmupDriver(
      Engine engine,
      List<Demonstration> demonstrations,
      int batchSize,
      double learningRate,
      double maxGradNorm,
      long seed,
      Consumer<StepMetrics> publish) {
    if (demonstrations.isEmpty()) {
      throw new IllegalArgumentException("warm-up needs at least one demonstration");
    }
    this.engine = engine;
    this.demonstrations = List.copyOf(demonstrations);
    this.batchSize = batchSize;
    this.learningRate = learningRate;
    this.maxGradNorm = maxGradNorm;
    this.random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    this.publish = publish;
    reshuffle();
  }

  private void reshuffle() {
    int n = demonstrations.size();
    order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    position = 0;
  }

  /** Runs warm-up step {@code step} (1-based) and returns its response. */
  public SupervisedStepResponse step(long step) {
    SupervisedStepRequest.Builder request =
        SupervisedStepRequest.newBuilder()
            .setLearningRate(learningRate)
            .setMaxGradNorm(maxGradNorm);
    for (Demonstration d : nextBatch()) {
      request.addSequences(
          SupervisedSequence.newBuilder()
              .addAllTokenIds(d.tokenIds())
              .addAllLossMask(d.lossMask().stream().map(Integer::valueOf).toList())
              .addAllImages(d.images()));
    }
    SupervisedStepResponse response = callWithRetry(request.build());
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("loss", response.getLoss());
    values.put("grad_norm", response.getGradNorm());
    values.put("tokens", (double) response.getTokens());
    values.put("learning_rate", learningRate);
    values.put(
        "tokens_per_s",
        response.getSeconds() > 0 ? response.getTokens() / response.getSeconds() : 0);
    publish.accept(
        new StepMetrics("warmup", step, response.getPolicyVersion(), Instant.now(), values));
    return response;
  }

  private SupervisedStepResponse callWithRetry(SupervisedStepRequest request) {
    for (int attempt = 1; ; attempt++) {
      try {
        return engine.supervisedStep(request);
      } catch (EngineUnavailableException e) {
        if (e.permanent() || attempt >= MAX_RETRIES) {
          throw e;
        }
      }
    }
  }

  private List<Demonstration> nextBatch() {
    List<Demonstration> batch = new ArrayList<>(batchSize);
    while (batch.size() < batchSize) {
      if (position >= order.length) {
        reshuffle();
      }
      batch.add(demonstrations.get(order[position++]));
    }
    return batch;
  }
}

package io.rolloutfarm.learner.train;

import io.rolloutfarm.learner.data.MediaLoader;
import io.rolloutfarm.learner.data.Prompt;
import io.rolloutfarm.learner.engine.Engine;
import io.rolloutfarm.learner.engine.EngineUnavailableException;
import io.rolloutfarm.learner.metrics.StepMetrics;
import io.rolloutfarm.learner.ofr.FilterReason;
import io.rolloutfarm.learner.ofr.Group;
import io.rolloutfarm.learner.ofr.OfrSelector;
import io.rolloutfarm.learner.ofr.ScoredGroup;
import io.rolloutfarm.learner.ofr.Selection;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.TrainSequence;
import io.rolloutfarm.proto.v1.TrainStepRequest;
import io.rolloutfarm.proto.v1.TrainStepResponse;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.Turn;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * One RL step: OFR over the round's groups (plus carried-over ones), group-mean advantages, one
 * engine {@code TrainStep} over the kept groups, and the step's metrics. A step whose groups were
 * all filtered out makes no update (the policy version stays) but still counts, so that a run where
 * nothing is learnable ends and shows why.
 */
public final class RlTrainer {
  private static final Logger LOG = Logger.getLogger(RlTrainer.class.getName());
  private static final int MAX_RETRIES = 3;

  private final TrainerConfig config;
  private final OfrSelector selector;
  private final Engine engine;
  private final Function<String, Prompt> prompts;
  private final MediaLoader media;
  private final LearningRateSchedule lr;
  private final int imageTokenId;
  private final Consumer<StepMetrics> publish;

  private long step;
  private long policyVersion;
  private List<Group> carried = List.of();
  private long lastStepEndNanos = System.nanoTime();

  /** What a step did. */
  public record StepResult(
      long step, long policyVersion, Selection selection, StepMetrics metrics) {}

  public RlTrainer(
      TrainerConfig config,
      OfrSelector selector,
      Engine engine,
      Function<String, Prompt> prompts,
      MediaLoader media,
      LearningRateSchedule lr,
      int imageTokenId,
      Consumer<StepMetrics> publish) {
    this.config = config;
    this.selector = selector;
    this.engine = engine;
    this.prompts = prompts;
    this.media = media;
    this.lr = lr;
    this.imageTokenId = imageTokenId;
    this.publish = publish;
  }

  /** Resumes from a checkpoint. */
  public synchronized void restore(long step, long policyVersion, List<Group> carried) {
    this.step = step;
    this.policyVersion = policyVersion;
    this.carried = List.copyOf(carried);
  }

  public synchronized long step() {
    return step;
  }

  public synchronized long policyVersion() {
    return policyVersion;
  }

  /** Sets the version after warm-up or an engine restart. */
  public synchronized void setPolicyVersion(long version) {
    this.policyVersion = version;
  }

  public synchronized List<Group> carried() {
    return carried;
  }

  /** Runs one step on the round's fresh groups. */
  public synchronized StepResult runStep(List<Group> fresh) {
    long started = System.nanoTime();
    // Admission order, not completion order: the same prompts give the same batch however the
    // workers' timing fell.
    fresh = fresh.stream().sorted(Comparator.comparingLong(Group::sequence)).toList();
    Selection selection = selector.select(fresh, carried, policyVersion);
    carried = selection.carryOver();
    double learningRate = lr.at(step);
    Batch batch = batch(selection.kept());
    TrainStepResponse response = null;
    if (!batch.sequences().isEmpty()) {
      TrainStepRequest request =
          TrainStepRequest.newBuilder()
              .addAllSequences(batch.sequences())
              .setLearningRate(learningRate)
              .setClipLow(config.clipLow())
              .setClipHigh(config.clipHigh())
              .setMaxGradNorm(config.maxGradNorm())
              .setMiniBatchSize(config.miniBatchSize())
              .setEpochs(config.epochs())
              .setLossAggregation("token-mean")
              .build();
      response = trainWithRetry(request);
      policyVersion = response.getPolicyVersion();
    }
    step++;
    long now = System.nanoTime();
    StepMetrics metrics =
        new StepMetrics(
            "train",
            step,
            policyVersion,
            Instant.now(),
            metrics(fresh, selection, batch, response, learningRate, now, started));
    lastStepEndNanos = now;
    publish.accept(metrics);
    return new StepResult(step, policyVersion, selection, metrics);
  }

  private TrainStepResponse trainWithRetry(TrainStepRequest request) {
    for (int attempt = 1; ; attempt++) {
      try {
        return engine.trainStep(request);
      } catch (EngineUnavailableException e) {
        // The engine restarts from the last checkpoint; the update is made again on that policy.
        if (e.permanent() || attempt >= MAX_RETRIES) {
          throw e;
        }
        LOG.warning("train step " + (step + 1) + " interrupted by an engine restart; retrying");
      }
    }
  }

  /** The sequences of a batch and what was left out of it. */
  record Batch(List<TrainSequence> sequences, List<Trajectory> trajectories, int malformed) {}

  Batch batch(List<ScoredGroup> kept) {
    List<TrainSequence> sequences = new ArrayList<>();
    List<Trajectory> used = new ArrayList<>();
    int malformed = 0;
    for (ScoredGroup g : kept) {
      List<Double> rewards = g.valid().stream().map(t -> t.getReward().getTotal()).toList();
      double[] advantages = Advantages.compute(rewards, config.normalizeAdvantageByStd());
      Prompt prompt = prompts.apply(g.group().promptId());
      List<Image> taskImages = prompt == null ? List.of() : media.trainingImages(prompt);
      for (int i = 0; i < g.valid().size(); i++) {
        Trajectory t = g.valid().get(i);
        List<Image> images = new ArrayList<>(taskImages);
        for (Turn turn : t.getTurnsList()) {
          if (turn.hasObservation()) {
            images.addAll(turn.getObservation().getImagesList());
          }
        }
        long placeholders = t.getTokenIdsList().stream().filter(id -> id == imageTokenId).count();
        if (placeholders != images.size()) {
          LOG.warning(
              "trajectory "
                  + t.getTrajectoryId()
                  + " has "
                  + placeholders
                  + " image placeholders but "
                  + images.size()
                  + " images; left out of the batch");
          malformed++;
          continue;
        }
        sequences.add(
            TrainSequence.newBuilder()
                .addAllTokenIds(t.getTokenIdsList())
                .addAllLossMask(t.getLossMaskList())
                .addAllOldLogprobs(t.getLogprobsList())
                .setAdvantage((float) advantages[i])
                .addAllImages(images)
                .build());
        used.add(t);
      }
    }
    return new Batch(sequences, used, malformed);
  }

  private Map<String, Double> metrics(
      List<Group> fresh,
      Selection s,
      Batch batch,
      TrainStepResponse r,
      double learningRate,
      long now,
      long started) {
    Map<String, Double> m = new LinkedHashMap<>();
    // What the current policy did on this round's rollouts (masked groups excluded).
    List<Trajectory> rollouts = new ArrayList<>();
    for (Group g : fresh) {
      if (!g.masked()) {
        rollouts.addAll(g.trajectories());
      }
    }
    double rewardSum = 0;
    double accuracySum = 0;
    double toolCalls = 0;
    double generatedTokens = 0;
    for (Trajectory t : rollouts) {
      rewardSum += t.getReward().getTotal();
      accuracySum += t.getReward().getAccuracy();
      toolCalls += t.getToolCalls();
      for (int mask : t.getLossMaskList()) {
        generatedTokens += mask;
      }
    }
    int n = rollouts.size();
    double seconds = (now - lastStepEndNanos) / 1e9;
    m.put("reward_mean", n == 0 ? 0 : rewardSum / n);
    m.put("accuracy", n == 0 ? 0 : accuracySum / n);
    m.put("tool_calls_per_trajectory", n == 0 ? 0 : toolCalls / n);
    m.put("trajectories", (double) n);
    m.put("generated_tokens", generatedTokens);
    m.put("rollout_tokens_per_s", seconds > 0 ? generatedTokens / seconds : 0);
    int considered = s.generated() + s.carriedIn();
    m.put("groups_generated", (double) s.generated());
    m.put("groups_carried_in", (double) s.carriedIn());
    for (FilterReason reason : FilterReason.values()) {
      if (isGroupReason(reason)) {
        int count = s.groupsFiltered().getOrDefault(reason, 0);
        m.put("groups_filtered_" + reason.metricName(), (double) count);
        m.put(
            "filter_ratio_" + reason.metricName(),
            considered == 0 ? 0 : (double) count / considered);
      } else {
        m.put(
            "trajectories_filtered_" + reason.metricName(),
            (double) s.trajectoriesFiltered().getOrDefault(reason, 0));
      }
    }
    m.put("groups_kept", (double) s.kept().size());
    m.put("groups_surplus_discarded", (double) s.surplusDiscarded());
    m.put("groups_carried_over", (double) s.carryOver().size());
    m.put("oversampling_efficiency", s.oversamplingEfficiency());
    double batchReward = 0;
    double lag = 0;
    for (Trajectory t : batch.trajectories()) {
      batchReward += t.getReward().getTotal();
      lag += Math.max(0, policyVersionBefore(r) - t.getPolicyVersion());
    }
    int b = batch.trajectories().size();
    m.put("batch_sequences", (double) b);
    m.put("batch_reward_mean", b == 0 ? 0 : batchReward / b);
    m.put("batch_staleness_mean", b == 0 ? 0 : lag / b);
    m.put("batch_malformed", (double) batch.malformed());
    m.put("learning_rate", learningRate);
    m.put("updated", r == null ? 0.0 : 1.0);
    m.put("loss", r == null ? 0 : r.getLoss());
    m.put("clip_fraction", r == null ? 0 : r.getClipFraction());
    m.put("grad_norm", r == null ? 0 : r.getGradNorm());
    m.put("entropy", r == null ? 0 : r.getEntropy());
    m.put("approx_kl", r == null ? 0 : r.getApproxKl());
    m.put("train_tokens", r == null ? 0 : (double) r.getTokens());
    m.put("train_seconds", r == null ? 0 : r.getSeconds());
    m.put(
        "train_tokens_per_s",
        r == null || r.getSeconds() <= 0 ? 0 : r.getTokens() / r.getSeconds());
    m.put("step_seconds", seconds);
    m.put("learner_overhead_seconds", (now - started) / 1e9 - (r == null ? 0 : r.getSeconds()));
    return m;
  }

  private long policyVersionBefore(TrainStepResponse r) {
    return r == null ? policyVersion : Math.max(0, r.getPolicyVersion() - 1);
  }

  private static boolean isGroupReason(FilterReason reason) {
    return switch (reason) {
      case INFRA_FAILURE, STALE, TOO_FEW_TRAJECTORIES, ZERO_REWARD_STD -> true;
      case BROKEN_INTERACTION, OVER_LENGTH, NO_TOOL_USE -> false;
    };
  }
}

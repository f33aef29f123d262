package io.rolloutfarm.learner.bench;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import io.rolloutfarm.learner.ofr.Group;
import io.rolloutfarm.learner.ofr.OfrConfig;
import io.rolloutfarm.learner.ofr.OfrSelector;
import io.rolloutfarm.learner.ofr.RewardStats;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.RewardBreakdown;
import io.rolloutfarm.proto.v1.Trajectory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Cost of one oversampling-filtering-ranking pass, in milliseconds per 1,000 groups, against a
 * naive selection measured in the same run: filter with streams, then fully sort the groups with a
 * comparator that recomputes each group's reward spread on every comparison (what a direct {@code
 * groups.sort(comparing(g -> std(g)))} does). Both keep the same groups; {@link #naiveSelect} is
 * tested to agree with {@link OfrSelector}.
 */
public final class OfrBenchmark {

  /**
   * What to measure.
   *
   * @param groups groups in one pass (the oversampled round)
   * @param groupSize trajectories per group
   * @param trainBatchSize groups kept
   * @param repeats timed repetitions; the median is reported
   * @param seed seed of the synthetic rewards
   * @param warmUpMillis untimed calls of each selection first, so the JIT has compiled them
   */
  public record Options(
      int groups, int groupSize, int trainBatchSize, int repeats, long seed, long warmUpMillis) {
    public Options {
      if (groups < 1 || groupSize < 2 || trainBatchSize < 1 || repeats < 1 || warmUpMillis < 0) {
        throw new IllegalArgumentException(
            "OFR benchmark needs groups >= 1, groupSize >= 2, trainBatchSize >= 1, repeats >= 1,"
                + " warm-up >= 0 ms");
      }
    }

    public static Options defaults() {
      return new Options(1000, 8, 256, 7, 7, 2000);
    }
  }

  /** Medians in milliseconds per 1,000 groups, and how many groups one pass kept. */
  public record Result(double ofrMsPer1000Groups, double naiveMsPer1000Groups, int kept) {
    /** How many times cheaper OFR is than the naive selection. */
    public double speedup() {
      return naiveMsPer1000Groups / ofrMsPer1000Groups;
    }
  }

  private final Options options;

  public OfrBenchmark(Options options) {
    this.options = options;
  }

  public Result run() {
    List<Group> groups = syntheticGroups(options.groups(), options.groupSize(), options.seed());
    OfrConfig config = config(options.trainBatchSize());
    OfrSelector selector = new OfrSelector(config);
    int kept = selector.select(groups, List.of(), 0).kept().size();
    double[] ofr = new double[options.repeats()];
    double[] naive = new double[options.repeats()];
    // Warm the JIT on both before timing either.
    long warmUp = options.warmUpMillis() * 1_000_000L;
    time(() -> selector.select(groups, List.of(), 0).kept().size(), warmUp);
    time(() -> naiveSelect(groups, config.trainBatchSize()).size(), warmUp);
    for (int r = 0; r < options.repeats(); r++) {
      ofr[r] = time(() -> selector.select(groups, List.of(), 0).kept().size(), SAMPLE_NANOS);
      naive[r] = time(() -> naiveSelect(groups, config.trainBatchSize()).size(), SAMPLE_NANOS);
    }
    double per1000 = 1000.0 / options.groups();
    return new Result(median(ofr) * per1000, median(naive) * per1000, kept);
  }

  /** The default filters and ranking, synchronous, discarding the surplus. */
  public static OfrConfig config(int trainBatchSize) {
    return new OfrConfig(
        true,
        true,
        true,
        false,
        AlgorithmSpec.Ranking.RewardStdDesc,
        AlgorithmSpec.SurplusPolicy.Discard,
        trainBatchSize,
        0);
  }

  /**
   * Groups whose members are right with a per-prompt probability (so some groups have zero spread),
   * with a few broken and over-length trajectories and an occasional masked group.
   */
  public static List<Group> syntheticGroups(int count, int groupSize, long seed) {
    Random random = new Random(seed);
    List<Group> groups = new ArrayList<>(count);
    for (int g = 0; g < count; g++) {
      String prompt = "p" + g;
      double difficulty = random.nextDouble();
      List<Trajectory> members = new ArrayList<>(groupSize);
      for (int i = 0; i < groupSize; i++) {
        double accuracy = random.nextDouble() < difficulty ? 1 : 0;
        int toolCalls = random.nextInt(3);
        double roll = random.nextDouble();
        EndReason end =
            roll < 0.03
                ? EndReason.END_REASON_FORMAT_ERROR
                : roll < 0.05 ? EndReason.END_REASON_OVER_LENGTH : EndReason.END_REASON_DONE;
        members.add(
            Trajectory.newBuilder()
                .setTrajectoryId(prompt + "-" + i)
                .setPromptId(prompt)
                .setGroupIndex(i)
                .setEndReason(end)
                .setToolCalls(toolCalls)
                .setReward(
                    RewardBreakdown.newBuilder()
                        .setAccuracy(accuracy)
                        .setTotal(accuracy + (accuracy == 1 ? 0.1 * toolCalls : 0)))
                .build());
      }
      groups.add(new Group(prompt + "#" + g, prompt, g, members, random.nextDouble() < 0.02));
    }
    return groups;
  }

  /** The baseline: same filters, then a full sort that recomputes spreads on every comparison. */
  public static List<Group> naiveSelect(List<Group> groups, int keep) {
    List<Group> valid =
        groups.stream()
            .filter(g -> !g.masked())
            .map(
                g ->
                    new Group(
                        g.key(),
                        g.promptId(),
                        g.sequence(),
                        g.trajectories().stream()
                            .filter(
                                t ->
                                    t.getEndReason() != EndReason.END_REASON_FORMAT_ERROR
                                        && t.getEndReason() != EndReason.END_REASON_ERROR_IN_ACTION
                                        && t.getEndReason() != EndReason.END_REASON_OVER_LENGTH)
                            .toList(),
                        false))
            .filter(g -> g.trajectories().size() >= 2)
            .filter(g -> RewardStats.of(g.trajectories()).std() > 1e-9)
            .sorted(
                Comparator.comparingDouble((Group g) -> RewardStats.of(g.trajectories()).std())
                    .reversed())
            .toList();
    return valid.subList(0, Math.min(keep, valid.size()));
  }

  private static final long SAMPLE_NANOS = 100_000_000L;

  /** Milliseconds per call of {@code pass}, over enough calls to last at least {@code nanos}. */
  private static double time(java.util.function.IntSupplier pass, long nanos) {
    int calls = 0;
    long sink = 0;
    long start = System.nanoTime();
    long elapsed;
    do {
      sink += pass.getAsInt();
      calls++;
      elapsed = System.nanoTime() - start;
    } while (elapsed < nanos);
    if (sink < 0) {
      throw new AssertionError(); // keeps the calls observable
    }
    return elapsed / 1e6 / calls;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}

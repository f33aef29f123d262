package io.rolloutfarm.learner.ofr;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.Trajectory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Oversampling-filtering-ranking, as in PyVision-RL: drop masked and stale groups, drop broken,
 * over-length (and optionally tool-less) trajectories, drop groups left with fewer than two
 * trajectories or with zero reward spread, rank the rest by reward standard deviation (descending;
 * ties keep admission order) or not at all, keep the top {@code trainBatchSize}, and carry the
 * surplus over or discard it.
 */
public final class OfrSelector {
  private final OfrConfig config;

  public OfrSelector(OfrConfig config) {
    this.config = config;
  }

  /**
   * Selects a training batch.
   *
   * @param fresh groups completed since the last pass
   * @param carried groups carried over from earlier passes (re-checked for staleness)
   * @param policyVersion the policy version the batch will update
   */
  public Selection select(List<Group> fresh, List<Group> carried, long policyVersion) {
    Map<FilterReason, Integer> groupsFiltered = new EnumMap<>(FilterReason.class);
    Map<FilterReason, Integer> trajectoriesFiltered = new EnumMap<>(FilterReason.class);
    List<ScoredGroup> valid = new ArrayList<>();
    // Carried groups are older, so they come first when ranking leaves the order alone.
    List<Group> candidates = new ArrayList<>(carried.size() + fresh.size());
    candidates.addAll(carried);
    candidates.addAll(fresh);
    for (Group group : candidates) {
      FilterReason groupReason = groupReason(group, policyVersion);
      if (groupReason != null) {
        groupsFiltered.merge(groupReason, 1, Integer::sum);
        continue;
      }
      List<Trajectory> survivors = new ArrayList<>();
      for (Trajectory t : group.trajectories()) {
        FilterReason reason = trajectoryReason(t);
        if (reason == null) {
          survivors.add(t);
        } else {
          trajectoriesFiltered.merge(reason, 1, Integer::sum);
        }
      }
      if (survivors.size() < 2) {
        groupsFiltered.merge(FilterReason.TOO_FEW_TRAJECTORIES, 1, Integer::sum);
        continue;
      }
      RewardStats stats = RewardStats.of(survivors);
      if (config.filterZeroRewardStd() && stats.std() <= 1e-9) {
        groupsFiltered.merge(FilterReason.ZERO_REWARD_STD, 1, Integer::sum);
        continue;
      }
      valid.add(new ScoredGroup(group, survivors, stats));
    }
    if (config.ranking() == AlgorithmSpec.Ranking.RewardStdDesc) {
      // List.sort is stable: equal spreads keep candidate order (older admissions first).
      valid.sort(Comparator.comparingDouble((ScoredGroup g) -> g.stats().std()).reversed());
    }
    int keep = Math.min(config.trainBatchSize(), valid.size());
    List<ScoredGroup> kept = List.copyOf(valid.subList(0, keep));
    List<ScoredGroup> surplus = valid.subList(keep, valid.size());
    List<Group> carryOver = new ArrayList<>();
    int discarded = 0;
    if (config.surplus() == AlgorithmSpec.SurplusPolicy.CarryOver) {
      for (ScoredGroup s : surplus) {
        // A group that would be stale at the next version is not worth keeping.
        if (lag(s.group(), policyVersion + 1) <= config.maxOffPolicySteps()) {
          carryOver.add(s.group());
        } else {
          discarded++;
        }
      }
    } else {
      discarded = surplus.size();
    }
    return new Selection(
        kept,
        List.copyOf(carryOver),
        fresh.size(),
        carried.size(),
        Map.copyOf(groupsFiltered),
        Map.copyOf(trajectoriesFiltered),
        discarded);
  }

  private FilterReason groupReason(Group group, long policyVersion) {
    if (group.masked()) {
      return FilterReason.INFRA_FAILURE;
    }
    if (lag(group, policyVersion) > config.maxOffPolicySteps()) {
      return FilterReason.STALE;
    }
    return null;
  }

  private static long lag(Group group, long policyVersion) {
    return Math.max(0, policyVersion - group.oldestPolicyVersion());
  }

  private FilterReason trajectoryReason(Trajectory t) {
    EndReason end = t.getEndReason();
    if (config.filterBrokenInteraction()
        && (end == EndReason.END_REASON_FORMAT_ERROR
            || end == EndReason.END_REASON_ERROR_IN_ACTION)) {
      return FilterReason.BROKEN_INTERACTION;
    }
    if (config.filterOverLength() && end == EndReason.END_REASON_OVER_LENGTH) {
      return FilterReason.OVER_LENGTH;
    }
    if (config.filterNoToolUse() && t.getToolCalls() == 0) {
      return FilterReason.NO_TOOL_USE;
    }
    return null;
  }
}

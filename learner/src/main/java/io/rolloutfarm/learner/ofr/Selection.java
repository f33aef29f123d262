package io.rolloutfarm.learner.ofr;

import java.util.List;
import java.util.Map;

/**
 * What one oversampling-filtering-ranking pass decided.
 *
 * @param kept the training batch, best first
 * @param carryOver valid surplus groups kept for the next step (empty under Discard)
 * @param generated fresh groups that entered this pass
 * @param carriedIn groups carried over from earlier passes that entered this pass
 * @param groupsFiltered dropped groups per reason
 * @param trajectoriesFiltered dropped trajectories per reason (inside groups that may survive)
 * @param surplusDiscarded valid groups beyond the batch that were thrown away
 */
public record Selection(
    List<ScoredGroup> kept,
    List<Group> carryOver,
    int generated,
    int carriedIn,
    Map<FilterReason, Integer> groupsFiltered,
    Map<FilterReason, Integer> trajectoriesFiltered,
    int surplusDiscarded) {

  /** Kept groups per fresh group generated; the price of oversampling (1 would be free). */
  public double oversamplingEfficiency() {
    return generated == 0 ? 0 : (double) kept.size() / generated;
  }

  public int groupsFilteredTotal() {
    return groupsFiltered.values().stream().mapToInt(Integer::intValue).sum();
  }
}

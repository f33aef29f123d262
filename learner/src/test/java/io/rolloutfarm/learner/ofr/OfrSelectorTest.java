package io.rolloutfarm.learner.ofr;

import static io.rolloutfarm.learner.testing.Trajectories.group;
import static io.rolloutfarm.learner.testing.Trajectories.scored;
import static io.rolloutfarm.learner.testing.Trajectories.withEnd;
import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec.Ranking;
import io.rolloutfarm.api.v1alpha1.AlgorithmSpec.SurplusPolicy;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.Trajectory;
import java.util.List;
import org.junit.jupiter.api.Test;

class OfrSelectorTest {

  private static OfrConfig config(int batch, Ranking ranking, SurplusPolicy surplus, int maxOff) {
    return new OfrConfig(true, true, true, false, ranking, surplus, batch, maxOff);
  }

  private static List<String> keys(List<ScoredGroup> groups) {
    return groups.stream().map(g -> g.group().key()).toList();
  }

  @Test
  void ranksByRewardStdDescendingAndKeepsTheTopGroups() {
    OfrSelector selector =
        new OfrSelector(config(2, Ranking.RewardStdDesc, SurplusPolicy.Discard, 0));
    Group low = group("low", 0, 5, 1, 1, 1, 0); // std 0.433
    Group high = group("high", 1, 5, 1, 0, 1, 0); // std 0.5
    Group mid = group("mid", 2, 5, 1, 1, 0, 0.5); // std 0.395...
    Selection s = selector.select(List.of(low, high, mid), List.of(), 5);

    assertThat(keys(s.kept())).containsExactly("high#1", "low#0");
    assertThat(s.kept().get(0).stats().std()).isEqualTo(0.5);
    assertThat(s.surplusDiscarded()).isEqualTo(1);
    assertThat(s.carryOver()).isEmpty();
    assertThat(s.oversamplingEfficiency()).isEqualTo(2.0 / 3);
  }

  @Test
  void tiesKeepAdmissionOrder() {
    OfrSelector selector =
        new OfrSelector(config(2, Ranking.RewardStdDesc, SurplusPolicy.Discard, 0));
    Group a = group("a", 0, 0, 1, 0);
    Group b = group("b", 1, 0, 0, 1);
    Group c = group("c", 2, 0, 1, 0);
    assertThat(keys(selector.select(List.of(a, b, c), List.of(), 0).kept()))
        .containsExactly("a#0", "b#1");
    // Same groups in another order: the order they came in decides, not their names.
    assertThat(keys(selector.select(List.of(c, b, a), List.of(), 0).kept()))
        .containsExactly("c#2", "b#1");
  }

  @Test
  void rankingNoneKeepsArrivalOrder() {
    OfrSelector selector = new OfrSelector(config(2, Ranking.None, SurplusPolicy.Discard, 0));
    Group low = group("low", 0, 0, 1, 1, 1, 0);
    Group high = group("high", 1, 0, 1, 0, 1, 0);
    Group mid = group("mid", 2, 0, 1, 1, 0, 0.5);
    assertThat(keys(selector.select(List.of(low, high, mid), List.of(), 0).kept()))
        .containsExactly("low#0", "high#1");
  }

  @Test
  void everythingFilteredGivesAnEmptyBatchWithReasons() {
    OfrSelector selector =
        new OfrSelector(config(4, Ranking.RewardStdDesc, SurplusPolicy.Discard, 0));
    Group allRight = group("right", 0, 0, 1, 1, 1, 1);
    Group allWrong = group("wrong", 1, 0, 0, 0, 0, 0);
    Group masked = new Group("masked#2", "masked", 2, List.of(scored("masked", 0, 1, 0)), true);
    Group broken =
        new Group(
            "broken#3",
            "broken",
            3,
            List.of(
                scored("broken", 0, 1, 0),
                withEnd(scored("broken", 1, 0, 0), EndReason.END_REASON_FORMAT_ERROR),
                withEnd(scored("broken", 2, 0, 0), EndReason.END_REASON_OVER_LENGTH)),
            false);
    Selection s = selector.select(List.of(allRight, allWrong, masked, broken), List.of(), 0);

    assertThat(s.kept()).isEmpty();
    assertThat(s.groupsFiltered())
        .containsEntry(FilterReason.ZERO_REWARD_STD, 2)
        .containsEntry(FilterReason.INFRA_FAILURE, 1)
        .containsEntry(FilterReason.TOO_FEW_TRAJECTORIES, 1);
    assertThat(s.trajectoriesFiltered())
        .containsEntry(FilterReason.BROKEN_INTERACTION, 1)
        .containsEntry(FilterReason.OVER_LENGTH, 1);
    assertThat(s.groupsFilteredTotal()).isEqualTo(4);
    assertThat(s.oversamplingEfficiency()).isZero();
  }

  @Test
  void brokenTrajectoriesLeaveTheirGroupAndTheRestIsScoredWithoutThem() {
    OfrSelector selector =
        new OfrSelector(config(1, Ranking.RewardStdDesc, SurplusPolicy.Discard, 0));
    Group g =
        new Group(
            "p#0",
            "p",
            0,
            List.of(
                scored("p", 0, 1, 0),
                scored("p", 1, 0, 0),
                withEnd(scored("p", 2, 1, 0), EndReason.END_REASON_ERROR_IN_ACTION)),
            false);
    Selection s = selector.select(List.of(g), List.of(), 0);
    assertThat(s.kept()).hasSize(1);
    assertThat(s.kept().get(0).valid()).extracting(Trajectory::getGroupIndex).containsExactly(0, 1);
    assertThat(s.kept().get(0).stats().mean()).isEqualTo(0.5);
  }

  @Test
  void filtersCanBeSwitchedOffAndNoToolUseOn() {
    OfrSelector lenient =
        new OfrSelector(
            new OfrConfig(
                false, false, false, true, Ranking.RewardStdDesc, SurplusPolicy.Discard, 4, 0));
    Group zeroStd = group("same", 0, 0, 1, 1);
    Group toolless =
        new Group(
            "t#1",
            "t",
            1,
            List.of(
                scored("t", 0, 1, 0).toBuilder().setToolCalls(0).build(),
                scored("t", 1, 0, 0),
                scored("t", 2, 1, 0)),
            false);
    Selection s = lenient.select(List.of(zeroStd, toolless), List.of(), 0);
    assertThat(keys(s.kept())).containsExactly("t#1", "same#0");
    assertThat(s.trajectoriesFiltered()).containsEntry(FilterReason.NO_TOOL_USE, 1);
  }

  @Test
  void fewerValidGroupsThanNeededTrainsOnWhatThereIs() {
    OfrSelector selector =
        new OfrSelector(config(16, Ranking.RewardStdDesc, SurplusPolicy.Discard, 0));
    Selection s =
        selector.select(
            List.of(group("a", 0, 0, 1, 0), group("b", 1, 0, 1, 1), group("c", 2, 0, 0, 1, 1)),
            List.of(),
            0);
    assertThat(keys(s.kept())).containsExactly("a#0", "c#2");
    assertThat(s.surplusDiscarded()).isZero();
    assertThat(s.generated()).isEqualTo(3);
  }

  @Test
  void carryOverKeepsSurplusUntilItAgesPastTheStalenessBound() {
    OfrSelector selector =
        new OfrSelector(config(1, Ranking.RewardStdDesc, SurplusPolicy.CarryOver, 1));
    Group best = group("best", 0, 3, 1, 0); // std 0.5
    Group second = group("second", 1, 3, 1, 1, 0); // std 0.47
    Group third = group("third", 2, 3, 1, 1, 1, 0); // std 0.43

    // Step at version 3: best is kept; second and third are carried (lag 1 at version 4 is ok).
    Selection first = selector.select(List.of(best, second, third), List.of(), 3);
    assertThat(keys(first.kept())).containsExactly("best#0");
    assertThat(first.carryOver()).extracting(Group::key).containsExactly("second#1", "third#2");

    // Step at version 4: a fresh group ties nothing; second (from version 3) still ranks first.
    Group fresh = group("fresh", 3, 4, 1, 1, 1, 1, 0); // std 0.4
    Selection next = selector.select(List.of(fresh), first.carryOver(), 4);
    assertThat(next.carriedIn()).isEqualTo(2);
    assertThat(keys(next.kept())).containsExactly("second#1");
    // third (version 3) would lag 2 at version 5: discarded, not carried; fresh is carried.
    assertThat(next.carryOver()).extracting(Group::key).containsExactly("fresh#3");
    assertThat(next.surplusDiscarded()).isEqualTo(1);

    // A carried group that is already too old when it comes back is filtered as stale.
    Selection late = selector.select(List.of(), List.of(third), 5);
    assertThat(late.kept()).isEmpty();
    assertThat(late.groupsFiltered()).containsEntry(FilterReason.STALE, 1);
  }

  @Test
  void synchronousCarryOverIsDiscardBecauseNothingStaysFresh() {
    OfrSelector selector =
        new OfrSelector(config(1, Ranking.RewardStdDesc, SurplusPolicy.CarryOver, 0));
    Selection s =
        selector.select(List.of(group("a", 0, 2, 1, 0), group("b", 1, 2, 1, 1, 0)), List.of(), 2);
    assertThat(s.carryOver()).isEmpty();
    assertThat(s.surplusDiscarded()).isEqualTo(1);
  }
}

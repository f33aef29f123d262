package io.rolloutfarm.learner.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rolloutfarm.learner.ofr.FilterReason;
import io.rolloutfarm.learner.ofr.Group;
import io.rolloutfarm.learner.ofr.OfrSelector;
import io.rolloutfarm.learner.ofr.ScoredGroup;
import io.rolloutfarm.learner.ofr.Selection;
import java.util.List;
import org.junit.jupiter.api.Test;

class OfrBenchmarkTest {

  @Test
  void theNaiveBaselineKeepsExactlyTheGroupsOfrKeeps() {
    List<Group> groups = OfrBenchmark.syntheticGroups(500, 8, 3);
    for (int keep : new int[] {1, 16, 256, 500}) {
      Selection s = new OfrSelector(OfrBenchmark.config(keep)).select(groups, List.of(), 0);
      assertThat(OfrBenchmark.naiveSelect(groups, keep))
          .extracting(Group::key)
          .containsExactlyElementsOf(
              s.kept().stream().map(ScoredGroup::group).map(Group::key).toList());
    }
  }

  @Test
  void syntheticGroupsExerciseEveryDefaultFilter() {
    List<Group> groups = OfrBenchmark.syntheticGroups(1000, 8, 7);
    Selection s = new OfrSelector(OfrBenchmark.config(256)).select(groups, List.of(), 0);
    assertThat(s.groupsFiltered())
        .containsKeys(FilterReason.ZERO_REWARD_STD, FilterReason.INFRA_FAILURE);
    assertThat(s.trajectoriesFiltered())
        .containsKeys(FilterReason.BROKEN_INTERACTION, FilterReason.OVER_LENGTH);
    assertThat(s.kept()).hasSize(256);
    // The same seed gives the same groups, so runs of the benchmark compare.
    assertThat(OfrBenchmark.syntheticGroups(1000, 8, 7)).isEqualTo(groups);
  }

  @Test
  void reportsMediansPerThousandGroups() {
    OfrBenchmark.Result r = new OfrBenchmark(new OfrBenchmark.Options(200, 4, 16, 1, 1, 50)).run();
    assertThat(r.kept()).isEqualTo(16);
    assertThat(r.ofrMsPer1000Groups()).isPositive();
    assertThat(r.naiveMsPer1000Groups()).isPositive();
    assertThat(r.speedup()).isEqualTo(r.naiveMsPer1000Groups() / r.ofrMsPer1000Groups());
    assertThatThrownBy(() -> new OfrBenchmark.Options(0, 8, 16, 1, 1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("groups >= 1");
  }
}

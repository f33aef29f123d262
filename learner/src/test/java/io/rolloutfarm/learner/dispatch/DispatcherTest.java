package io.rolloutfarm.learner.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import io.rolloutfarm.api.v1alpha1.AlgorithmSpec.InfraFailurePolicy;
import io.rolloutfarm.learner.data.MediaLoader;
import io.rolloutfarm.learner.data.PromptDataset;
import io.rolloutfarm.learner.data.PromptSampler;
import io.rolloutfarm.learner.ofr.FilterReason;
import io.rolloutfarm.learner.ofr.Group;
import io.rolloutfarm.learner.ofr.OfrConfig;
import io.rolloutfarm.learner.ofr.OfrSelector;
import io.rolloutfarm.learner.testing.MutableClock;
import io.rolloutfarm.learner.testing.Trajectories;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Trajectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DispatcherTest {
  @TempDir Path dir;
  private PromptDataset dataset;
  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final AtomicLong version = new AtomicLong();

  @BeforeEach
  void writeDataset() throws IOException {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      lines
          .append("{\"id\": \"p")
          .append(i)
          .append("\", \"question\": \"q")
          .append(i)
          .append("\", \"answer\": \"")
          .append(i)
          .append("\"}\n");
    }
    Path file = dir.resolve("train.jsonl");
    Files.writeString(file, lines);
    dataset = PromptDataset.load(file);
  }

  private Dispatcher dispatcher(int groupSize, int round, int maxOff, InfraFailurePolicy infra) {
    return new Dispatcher(
        new DispatcherConfig(groupSize, round, maxOff, infra, 3, Duration.ofSeconds(60)),
        dataset,
        new PromptSampler(dataset, 7),
        new MediaLoader(16),
        clock,
        version::get);
  }

  private static Dispatcher.LeaseGrant lease(Dispatcher d, int n) throws InterruptedException {
    return d.lease("worker-1", n, Duration.ZERO);
  }

  private static Trajectory answer(Task task, double reward, long version) {
    return Trajectories.scored(task.getPromptId(), task.getGroupIndex(), reward, version);
  }

  @Test
  void leasesEachPromptGroupSizeTimes() throws Exception {
    Dispatcher d = dispatcher(4, 2, 0, InfraFailurePolicy.Retry);
    d.setPaused(false);
    Dispatcher.LeaseGrant g = lease(d, 100);
    assertThat(g.tasks()).hasSize(8);
    assertThat(g.tasks().stream().map(Task::getPromptId).distinct()).hasSize(2);
    assertThat(g.tasks().subList(0, 4)).extracting(Task::getGroupIndex).containsExactly(0, 1, 2, 3);
    assertThat(g.tasks().get(0).getQuestion()).startsWith("q");
    assertThat(g.tasks().get(0).getVerifier().getKind()).isEqualTo("exact");
    assertThat(d.activeLeases()).isEqualTo(8);
  }

  @Test
  void synchronousAdmissionHoldsTheNextStepBackUntilTheUpdate() throws Exception {
    Dispatcher d = dispatcher(2, 3, 0, InfraFailurePolicy.Retry);
    d.setPaused(false);
    assertThat(lease(d, 100).tasks()).hasSize(6);
    assertThat(lease(d, 100).tasks()).isEmpty(); // step 0's prompts are all out
    d.stepsDone(1);
    assertThat(lease(d, 100).tasks()).hasSize(6);
  }

  @Test
  void offPolicyAdmissionRunsAheadByTheBoundOnly() throws Exception {
    Dispatcher d = dispatcher(2, 3, 2, InfraFailurePolicy.Retry);
    d.setPaused(false);
    assertThat(lease(d, 100).tasks()).hasSize(2 * 3 * 3); // steps 0, 1 and 2
    assertThat(lease(d, 100).tasks()).isEmpty();
    d.stepsDone(1);
    assertThat(lease(d, 100).tasks()).hasSize(6);
    StalenessAdmission admission = new StalenessAdmission(32, 0);
    assertThat(admission.mayAdmit(31, 0)).isTrue();
    assertThat(admission.mayAdmit(32, 0)).isFalse();
    assertThat(admission.mayAdmit(32, 1)).isTrue();
  }

  @Test
  void pausedDispatcherLeasesNothing() throws Exception {
    Dispatcher d = dispatcher(2, 3, 0, InfraFailurePolicy.Retry);
    assertThat(lease(d, 10).tasks()).isEmpty();
    d.finish();
    assertThat(lease(d, 10).runFinished()).isTrue();
  }

  @Test
  void expiredLeasesReturnToTheQueueAndLateSubmissionsAreRejected() throws Exception {
    Dispatcher d = dispatcher(2, 1, 0, InfraFailurePolicy.Retry);
    d.setPaused(false);
    Dispatcher.LeaseGrant first = lease(d, 2);
    String held = first.leases().get(0).id();
    String renewed = first.leases().get(1).id();

    clock.advance(Duration.ofSeconds(40));
    assertThat(d.renew("worker-1", List.of(renewed)).expired()).isEmpty();
    clock.advance(Duration.ofSeconds(30)); // held is now 70s old, renewed only 30s
    assertThat(d.sweepExpired()).isEqualTo(1);
    assertThat(d.activeLeases()).isEqualTo(1);

    Dispatcher.LeaseGrant again = d.lease("worker-2", 5, Duration.ZERO);
    assertThat(again.tasks()).hasSize(1);
    assertThat(again.tasks().get(0).getTaskId()).isEqualTo(first.tasks().get(0).getTaskId());
    assertThat(d.renew("worker-1", List.of(held)).expired()).containsExactly(held);

    Dispatcher.Ack late = d.submit(held, answer(first.tasks().get(0), 1, 0));
    assertThat(late.accepted()).isFalse();
    assertThat(late.message()).contains("expired");
    assertThat(d.counters().leasesExpired).isEqualTo(1);
  }

  @Test
  void releasedLeasesAreLeasedAgain() throws Exception {
    Dispatcher d = dispatcher(2, 1, 0, InfraFailurePolicy.Retry);
    d.setPaused(false);
    Dispatcher.LeaseGrant g = lease(d, 2);
    assertThat(d.release("worker-1", List.of(g.leases().get(1).id(), "unknown"))).isEqualTo(1);
    assertThat(lease(d, 5).tasks()).extracting(Task::getGroupIndex).containsExactly(1);
  }

  @Test
  void completeGroupsFormRoundsInCompletionOrder() throws Exception {
    Dispatcher d = dispatcher(2, 2, 0, InfraFailurePolicy.Retry);
    d.setPaused(false);
    Dispatcher.LeaseGrant g = lease(d, 4);
    // Second prompt completes first.
    for (int i : new int[] {2, 3, 0, 1}) {
      assertThat(d.submit(g.leases().get(i).id(), answer(g.tasks().get(i), i % 2, 0)).accepted())
          .isTrue();
    }
    List<Group> round = d.awaitRound(Duration.ofSeconds(1));
    assertThat(round)
        .extracting(Group::promptId)
        .containsExactly(g.tasks().get(2).getPromptId(), g.tasks().get(0).getPromptId());
    assertThat(round.get(0).trajectories()).hasSize(2);
    assertThat(d.awaitRound(Duration.ZERO)).isNull();
  }

  @Test
  void retryPolicyLeasesTheFailedMemberAgainAndNeverScoresIt() throws Exception {
    Dispatcher d = dispatcher(2, 1, 0, InfraFailurePolicy.Retry);
    d.setPaused(false);
    Dispatcher.LeaseGrant g = lease(d, 2);
    Task failedTask = g.tasks().get(1);
    Dispatcher.Ack ack =
        d.submit(
            g.leases().get(1).id(),
            Trajectories.infraFailure(failedTask.getPromptId(), failedTask.getGroupIndex()));
    assertThat(ack.accepted()).isTrue();
    assertThat(ack.message()).contains("re-queued");
    d.submit(g.leases().get(0).id(), answer(g.tasks().get(0), 1, 0));
    assertThat(d.completedGroups()).isZero(); // waits for the retry

    Dispatcher.LeaseGrant retry = lease(d, 5);
    assertThat(retry.tasks()).hasSize(1);
    Task again = retry.tasks().get(0);
    assertThat(again.getGroupIndex()).isEqualTo(1);
    assertThat(again.getAttempt()).isEqualTo(1);
    assertThat(again.getTaskId()).endsWith("~1");
    d.submit(retry.leases().get(0).id(), answer(again, 0, 0));

    List<Group> round = d.awaitRound(Duration.ofSeconds(1));
    assertThat(round).hasSize(1);
    assertThat(round.get(0).masked()).isFalse();
    assertThat(round.get(0).trajectories())
        .extracting(t -> t.getReward().getTotal())
        .containsExactly(1.0, 0.0);
    assertThat(round.get(0).trajectories().get(1).getAttempt()).isEqualTo(1);
    assertThat(d.counters().infraFailures).isEqualTo(1);
  }

  @Test
  void retriesRunOutIntoAMaskedGroup() throws Exception {
    Dispatcher d = dispatcher(2, 1, 0, InfraFailurePolicy.Retry); // maxAttempts 3
    d.setPaused(false);
    Dispatcher.LeaseGrant g = lease(d, 2);
    Task task = g.tasks().get(0);
    String leaseId = g.leases().get(0).id();
    for (int attempt = 0; attempt < 3; attempt++) {
      d.submit(leaseId, Trajectories.infraFailure(task.getPromptId(), 0));
      if (attempt < 2) {
        Dispatcher.LeaseGrant next = lease(d, 1);
        leaseId = next.leases().get(0).id();
        assertThat(next.tasks().get(0).getAttempt()).isEqualTo(attempt + 1);
      }
    }
    List<Group> round = d.awaitRound(Duration.ofSeconds(1));
    assertThat(round.get(0).masked()).isTrue();
    // The other member's lease was revoked: the worker is told to drop it.
    assertThat(d.renew("worker-1", List.of(g.leases().get(1).id())).expired()).hasSize(1);
  }

  @Test
  void maskPolicyDropsTheWholeGroupAndOfrNeverTrainsOnIt() throws Exception {
    Dispatcher d = dispatcher(3, 1, 0, InfraFailurePolicy.MaskGroup);
    d.setPaused(false);
    Dispatcher.LeaseGrant g = lease(d, 3);
    d.submit(g.leases().get(0).id(), answer(g.tasks().get(0), 1, 0));
    Dispatcher.Ack ack =
        d.submit(
            g.leases().get(1).id(), Trajectories.infraFailure(g.tasks().get(1).getPromptId(), 1));
    assertThat(ack.message()).contains("masked");
    assertThat(d.activeLeases()).isZero();
    Dispatcher.Ack straggler = d.submit(g.leases().get(2).id(), answer(g.tasks().get(2), 0, 0));
    assertThat(straggler.accepted()).isFalse();

    List<Group> round = d.awaitRound(Duration.ofSeconds(1));
    assertThat(round.get(0).masked()).isTrue();
    AlgorithmSpec algorithm = new AlgorithmSpec();
    var selection = new OfrSelector(OfrConfig.of(algorithm)).select(round, List.of(), 0);
    assertThat(selection.kept()).isEmpty();
    assertThat(selection.groupsFiltered()).containsEntry(FilterReason.INFRA_FAILURE, 1);
  }

  @Test
  void malformedAndStaleSubmissionsAreRejectedAndTheTaskLeasedAgain() throws Exception {
    Dispatcher d = dispatcher(2, 1, 1, InfraFailurePolicy.Retry);
    d.setPaused(false);
    Dispatcher.LeaseGrant g = lease(d, 2);
    Trajectory bad = answer(g.tasks().get(0), 1, 0).toBuilder().clearLogprobs().build();
    Dispatcher.Ack ack = d.submit(g.leases().get(0).id(), bad);
    assertThat(ack.accepted()).isFalse();
    assertThat(ack.message()).contains("logprobs");

    version.set(5);
    Dispatcher.Ack stale = d.submit(g.leases().get(1).id(), answer(g.tasks().get(1), 1, 3));
    assertThat(stale.accepted()).isFalse();
    assertThat(stale.message()).contains("2 versions behind");
    assertThat(lease(d, 5).tasks()).extracting(Task::getAttempt).startsWith(1, 1);
  }

  @Test
  void snapshotKeepsAcceptedWorkAndRestoreLeasesOnlyTheMissingMembers() throws Exception {
    Dispatcher d = dispatcher(2, 2, 1, InfraFailurePolicy.Retry);
    d.setPaused(false);
    Dispatcher.LeaseGrant g = lease(d, 6); // 3 prompts
    d.submit(g.leases().get(0).id(), answer(g.tasks().get(0), 1, 0));
    d.submit(g.leases().get(1).id(), answer(g.tasks().get(1), 0, 0)); // group 0 complete
    d.submit(g.leases().get(2).id(), answer(g.tasks().get(2), 1, 0)); // group 1 half
    DispatcherState state = d.snapshot();
    assertThat(state.completedGroups()).hasSize(1);
    assertThat(state.openGroups()).hasSize(2);
    assertThat(state.promptsAdmitted()).isEqualTo(3);

    Dispatcher restored =
        new Dispatcher(
            new DispatcherConfig(2, 2, 1, InfraFailurePolicy.Retry, 3, Duration.ofSeconds(60)),
            dataset,
            new PromptSampler(dataset, 7, state.cursor()),
            new MediaLoader(16),
            clock,
            version::get);
    restored.restore(state, 0);
    restored.setPaused(false);
    Dispatcher.LeaseGrant missing = restored.lease("w", 10, Duration.ZERO);
    List<String> ids = new ArrayList<>();
    for (Task t : missing.tasks()) {
      ids.add(t.getTaskId());
    }
    // Group 1 misses member 1, group 2 misses both; then admission adds 1 more prompt (4 = 2 x 2).
    assertThat(ids.subList(0, 3))
        .containsExactly(
            g.tasks().get(3).getTaskId(),
            g.tasks().get(4).getTaskId(),
            g.tasks().get(5).getTaskId());
    assertThat(missing.tasks()).hasSize(5);
    assertThat(restored.completedGroups()).isEqualTo(1);
  }
}

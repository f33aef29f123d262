package io.rolloutfarm.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetStatusBuilder;
import io.rolloutfarm.api.v1alpha1.ConditionTypes;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.SandboxPoolStatus;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.operator.Labels;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.children.RunDependents;
import io.rolloutfarm.operator.status.Conditions;
import io.rolloutfarm.operator.testing.Fixtures;
import io.rolloutfarm.operator.testing.TestingClock;
import io.rolloutfarm.operator.testing.TestingCluster;
import io.rolloutfarm.operator.testing.TestingEventRecorder;
import io.rolloutfarm.operator.testing.TestingLearnerStatusClient;
import io.rolloutfarm.operator.testing.TestingStatusWriter;
import io.rolloutfarm.proto.v1.RunPhase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Plain reconcile() calls against hand-written fakes. */
class RunReconciliationTest {
  private static final String NS = "ml";
  private final TestingCluster cluster = new TestingCluster();
  private final TestingEventRecorder events = new TestingEventRecorder();
  private final TestingStatusWriter statusWriter = new TestingStatusWriter();
  private final TestingLearnerStatusClient learner = new TestingLearnerStatusClient();
  private final TestingClock clock = new TestingClock();
  private final OperatorSettings settings = OperatorSettings.defaults();
  private final RunReconciliation reconciliation =
      new RunReconciliation(
          cluster, new RunDependents(settings), learner, events, statusWriter, settings, clock);

  private static Condition condition(TrainingRun run, String type) {
    return Conditions.find(run.getStatus().conditions, type).orElseThrow();
  }

  private static String statusOf(TrainingRun run, String type) {
    return condition(run, type).getStatus();
  }

  /** Marks learner, workers and the pool ready, as their controllers would. */
  private void farmBecomesReady(TrainingRun run) {
    StatefulSet sts = cluster.require(StatefulSet.class, NS, "demo-learner");
    sts.setStatus(new StatefulSetStatusBuilder().withReplicas(1).withReadyReplicas(1).build());
    cluster.put(sts);
    Deployment workers = cluster.require(Deployment.class, NS, "demo-workers");
    workers.setStatus(new DeploymentStatusBuilder().withReplicas(2).withReadyReplicas(2).build());
    cluster.put(workers);
    SandboxPool pool = cluster.require(SandboxPool.class, NS, "demo-sandbox");
    pool.setStatus(new SandboxPoolStatus());
    pool.getStatus().readyReplicas = 3;
    pool.getStatus().conditions =
        List.of(
            new io.fabric8.kubernetes.api.model.ConditionBuilder()
                .withType("Ready")
                .withStatus("True")
                .withReason("PodsReady")
                .withMessage("3/3 sandbox pods ready")
                .build());
    cluster.put(pool);
  }

  @Test
  void createsEveryChildWithTheRightFields() throws Exception {
    TrainingRun run = Fixtures.run("demo", NS);
    assertThat(reconciliation.reconcile(run)).contains(settings.statusPollInterval());

    ConfigMap config = cluster.require(ConfigMap.class, NS, "demo-config");
    TrainingRun fromConfig = RunFile.parse("cm", config.getData().get("run.yaml"));
    assertThat(fromConfig.getSpec()).usingRecursiveComparison().isEqualTo(run.getSpec());
    assertThat(fromConfig.getStatus()).isNull();

    StatefulSet sts = cluster.require(StatefulSet.class, NS, "demo-learner");
    assertThat(sts.getSpec().getReplicas()).isEqualTo(1);
    assertThat(sts.getSpec().getServiceName()).isEqualTo("demo-learner");
    var pod = sts.getSpec().getTemplate().getSpec();
    Container learnerContainer = pod.getContainers().getFirst();
    assertThat(learnerContainer.getResources().getLimits())
        .containsEntry("nvidia.com/gpu", new Quantity("2"));
    assertThat(pod.getTolerations())
        .anySatisfy(
            t -> {
              assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
              assertThat(t.getOperator()).isEqualTo("Exists");
              assertThat(t.getEffect()).isEqualTo("NoSchedule");
            });
    assertThat(pod.getRuntimeClassName()).isEqualTo("nvidia");
    assertThat(learnerContainer.getImage()).isEqualTo(settings.learnerImage());
    assertThat(learnerContainer.getArgs())
        .containsExactly(
            "learner",
            "--run",
            "/etc/rolloutfarm/run.yaml",
            "--port",
            "50051",
            "--metrics-port",
            "9090",
            "--work-dir",
            "/checkpoints");
    assertThat(pod.getVolumes())
        .filteredOn(v -> v.getPersistentVolumeClaim() != null)
        .extracting(v -> v.getPersistentVolumeClaim().getClaimName())
        .containsExactlyInAnyOrder("checkpoints", "datasets");

    Service svc = cluster.require(Service.class, NS, "demo-learner");
    assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(svc.getSpec().getPorts()).extracting(p -> p.getPort()).contains(50051);

    Deployment workers = cluster.require(Deployment.class, NS, "demo-workers");
    assertThat(workers.getSpec().getReplicas()).isEqualTo(2);
    assertThat(workers.getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs())
        .containsExactly(
            "worker",
            "--run",
            "/etc/rolloutfarm/run.yaml",
            "--learner",
            "demo-learner:50051",
            "--sandbox",
            "dns:///demo-sandbox:50051",
            "--concurrency",
            "32",
            "--metrics-port",
            "9090");
    assertThat(workers.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry(Labels.POOL, "demo-sandbox");

    SandboxPool pool = cluster.require(SandboxPool.class, NS, "demo-sandbox");
    assertThat(pool.getSpec().maxReplicas).isEqualTo(6);
    assertThat(pool.getSpec().sessionsPerPod).isEqualTo(8);
    assertThat(pool.getSpec().replicas).isNull();

    for (var child : List.of(config, sts, svc, workers, pool)) {
      assertThat(child.getMetadata().getOwnerReferences())
          .singleElement()
          .satisfies(
              o -> {
                assertThat(o.getUid()).isEqualTo(run.getMetadata().getUid());
                assertThat(o.getKind()).isEqualTo("TrainingRun");
                assertThat(o.getController()).isTrue();
              });
      assertThat(child.getMetadata().getLabels())
          .containsEntry("app.kubernetes.io/name", "rollout-farm")
          .containsEntry("app.kubernetes.io/instance", "demo")
          .containsEntry("app.kubernetes.io/managed-by", "rolloutfarm-operator")
          .containsKey("app.kubernetes.io/component");
    }
    assertThat(events.reasons()).containsOnly("Created").hasSize(5);

    assertThat(run.getStatus().observedGeneration).isEqualTo(1L);
    assertThat(run.getStatus().conditions)
        .extracting(Condition::getType)
        .containsExactlyElementsOf(ConditionTypes.TRAINING_RUN);
    assertThat(run.getStatus().conditions)
        .allSatisfy(
            c -> {
              assertThat(c.getStatus()).isIn("True", "False");
              assertThat(c.getObservedGeneration()).isEqualTo(1L);
              assertThat(c.getLastTransitionTime()).isEqualTo(clock.instant().toString());
              assertThat(c.getReason()).isNotBlank();
            });
    assertThat(statusOf(run, ConditionTypes.READY)).isEqualTo("False");
    assertThat(condition(run, ConditionTypes.LEARNER_READY).getReason())
        .isEqualTo("LearnerStarting");
    assertThat(statusOf(run, ConditionTypes.PROGRESSING)).isEqualTo("True");
  }

  @Test
  void aSecondPassWritesNothing() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    // The second pass sees the children the first one created (the pool now exists).
    reconciliation.reconcile(run);
    int creates = cluster.creates;
    long writes = statusWriter.writes();
    long skipped = statusWriter.skipped();
    clock.advance(Duration.ofSeconds(30));
    reconciliation.reconcile(run);
    reconciliation.reconcile(run);
    assertThat(cluster.creates).isEqualTo(creates);
    assertThat(cluster.replaces).isZero();
    assertThat(statusWriter.writes()).isEqualTo(writes);
    assertThat(statusWriter.skipped()).isEqualTo(skipped + 2);
  }

  @Test
  void conditionsFollowTheLearnerAndKeepTransitionTimes() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    String created = clock.instant().toString();
    farmBecomesReady(run);
    learner.set("demo", TestingLearnerStatusClient.training(3, 12, 0.4));
    clock.advance(Duration.ofMinutes(1));
    reconciliation.reconcile(run);

    assertThat(statusOf(run, ConditionTypes.READY)).isEqualTo("True");
    assertThat(statusOf(run, ConditionTypes.LEARNER_READY)).isEqualTo("True");
    assertThat(statusOf(run, ConditionTypes.SANDBOX_POOL_READY)).isEqualTo("True");
    assertThat(statusOf(run, ConditionTypes.ROLLOUTS_FLOWING)).isEqualTo("True");
    assertThat(condition(run, ConditionTypes.ROLLOUTS_FLOWING).getMessage())
        .contains("12 tasks leased");
    assertThat(run.getStatus().step).isEqualTo(3L);
    assertThat(run.getStatus().policyVersion).isEqualTo(3L);
    assertThat(run.getStatus().rewardMean).isEqualTo(0.4);
    assertThat(run.getStatus().accuracy).isEqualTo(0.2);
    assertThat(run.getStatus().toolCallsPerTrajectory).isEqualTo(1.5);
    assertThat(run.getStatus().sandboxReplicas).isEqualTo(3);
    // Flipped conditions moved their transition time; steady ones kept it.
    assertThat(condition(run, ConditionTypes.READY).getLastTransitionTime())
        .isEqualTo(clock.instant().toString());
    assertThat(condition(run, ConditionTypes.FAILED).getLastTransitionTime()).isEqualTo(created);
    assertThat(events.reasons()).contains("Ready");

    // The learner stops answering: figures are kept, readiness drops.
    learner.unreachable("demo");
    reconciliation.reconcile(run);
    assertThat(statusOf(run, ConditionTypes.LEARNER_READY)).isEqualTo("False");
    assertThat(condition(run, ConditionTypes.LEARNER_READY).getReason())
        .isEqualTo("LearnerUnreachable");
    assertThat(statusOf(run, ConditionTypes.READY)).isEqualTo("False");
    assertThat(run.getStatus().step).isEqualTo(3L);
  }

  @Test
  void reachingTotalStepsCompletesTheRunAndFreesItsPods() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    farmBecomesReady(run);
    learner.set(
        "demo",
        TestingLearnerStatusClient.training(10, 0, 0.9).toBuilder()
            .setPhase(RunPhase.RUN_PHASE_COMPLETE)
            .build());
    assertThat(reconciliation.reconcile(run)).isEmpty();

    assertThat(statusOf(run, ConditionTypes.COMPLETE)).isEqualTo("True");
    assertThat(condition(run, ConditionTypes.COMPLETE).getReason()).isEqualTo("TotalStepsReached");
    assertThat(statusOf(run, ConditionTypes.PROGRESSING)).isEqualTo("False");
    assertThat(statusOf(run, ConditionTypes.READY)).isEqualTo("False");
    assertThat(statusOf(run, ConditionTypes.FAILED)).isEqualTo("False");
    assertThat(run.getStatus().step).isEqualTo(10L);
    assertThat(cluster.require(StatefulSet.class, NS, "demo-learner").getSpec().getReplicas())
        .isZero();
    assertThat(cluster.require(Deployment.class, NS, "demo-workers").getSpec().getReplicas())
        .isZero();
    assertThat(cluster.require(SandboxPool.class, NS, "demo-sandbox").getSpec().replicas).isZero();
    assertThat(events.reasons()).contains("TotalStepsReached");

    // Terminal: the learner going away does not reopen the run.
    learner.unreachable("demo");
    reconciliation.reconcile(run);
    assertThat(statusOf(run, ConditionTypes.COMPLETE)).isEqualTo("True");
  }

  @Test
  void anInvalidSpecFailsWithAMessageAndCreatesNothingUntilFixed() {
    TrainingRun run = Fixtures.run("demo", NS);
    run.getSpec().algorithm.trainBatchSize = 64;
    reconciliation.reconcile(run);
    assertThat(cluster.keys()).isEmpty();
    Condition failed = condition(run, ConditionTypes.FAILED);
    assertThat(failed.getStatus()).isEqualTo("True");
    assertThat(failed.getReason()).isEqualTo("InvalidSpec");
    assertThat(failed.getMessage())
        .isEqualTo(
            "spec.algorithm.trainBatchSize: must be ≤ spec.algorithm.oversampleBatchSize (32)");
    assertThat(condition(run, ConditionTypes.READY).getReason()).isEqualTo("InvalidSpec");
    assertThat(events.events).anySatisfy(e -> assertThat(e.reason()).isEqualTo("InvalidSpec"));

    run.getSpec().algorithm.trainBatchSize = 16;
    run.getMetadata().setGeneration(2L);
    reconciliation.reconcile(run);
    assertThat(statusOf(run, ConditionTypes.FAILED)).isEqualTo("False");
    assertThat(condition(run, ConditionTypes.FAILED).getObservedGeneration()).isEqualTo(2L);
    assertThat(run.getStatus().observedGeneration).isEqualTo(2L);
    assertThat(cluster.get(StatefulSet.class, NS, "demo-learner")).isPresent();
  }

  @Test
  void suspendScalesWorkersAndSandboxesToZeroAndResumeBringsThemBack() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    run.getSpec().suspend = true;
    run.getMetadata().setGeneration(2L);
    reconciliation.reconcile(run);
    assertThat(statusOf(run, ConditionTypes.SUSPENDED)).isEqualTo("True");
    assertThat(condition(run, ConditionTypes.READY).getReason()).isEqualTo("SuspendRequested");
    assertThat(cluster.require(Deployment.class, NS, "demo-workers").getSpec().getReplicas())
        .isZero();
    assertThat(cluster.require(SandboxPool.class, NS, "demo-sandbox").getSpec().replicas).isZero();
    assertThat(cluster.require(StatefulSet.class, NS, "demo-learner").getSpec().getReplicas())
        .isEqualTo(1);

    run.getSpec().suspend = false;
    run.getMetadata().setGeneration(3L);
    reconciliation.reconcile(run);
    assertThat(statusOf(run, ConditionTypes.SUSPENDED)).isEqualTo("False");
    assertThat(cluster.require(Deployment.class, NS, "demo-workers").getSpec().getReplicas())
        .isEqualTo(2);
    assertThat(cluster.require(SandboxPool.class, NS, "demo-sandbox").getSpec().replicas).isNull();
    assertThat(events.reasons()).contains("SuspendRequested", "Resumed");
  }

  @Test
  void aCrashLoopingLearnerFailsTheRunForGood() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    Pod pod = learnerPod();
    pod.getStatus()
        .setContainerStatuses(
            List.of(
                new io.fabric8.kubernetes.api.model.ContainerStatusBuilder()
                    .withName("learner")
                    .withRestartCount(6)
                    .withNewState()
                    .withNewWaiting()
                    .withReason("CrashLoopBackOff")
                    .endWaiting()
                    .endState()
                    .build()));
    cluster.put(pod);
    reconciliation.reconcile(run);
    Condition failed = condition(run, ConditionTypes.FAILED);
    assertThat(failed.getStatus()).isEqualTo("True");
    assertThat(failed.getReason()).isEqualTo("LearnerCrashLooping");
    assertThat(failed.getMessage()).contains("demo-learner-0").contains("restarted 6 times");
    assertThat(cluster.require(StatefulSet.class, NS, "demo-learner").getSpec().getReplicas())
        .isZero();
    assertThat(events.events)
        .anySatisfy(
            e -> {
              assertThat(e.reason()).isEqualTo("LearnerCrashLooping");
              assertThat(e.type())
                  .isEqualTo(io.rolloutfarm.operator.kube.EventRecorder.Type.Warning);
            });

    cluster.delete(Pod.class, NS, "demo-learner-0");
    reconciliation.reconcile(run);
    assertThat(condition(run, ConditionTypes.FAILED).getReason()).isEqualTo("LearnerCrashLooping");
  }

  @Test
  void anUnschedulableGpuRequestFailsOnlyAfterTheTimeout() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    Pod pod = learnerPod();
    pod.getStatus()
        .setConditions(
            List.of(
                new io.fabric8.kubernetes.api.model.PodConditionBuilder()
                    .withType("PodScheduled")
                    .withStatus("False")
                    .withReason("Unschedulable")
                    .withMessage("0/4 nodes are available: 4 Insufficient nvidia.com/gpu.")
                    .withLastTransitionTime(clock.instant().toString())
                    .build()));
    cluster.put(pod);
    clock.advance(Duration.ofMinutes(5));
    reconciliation.reconcile(run);
    assertThat(statusOf(run, ConditionTypes.FAILED)).isEqualTo("False");

    clock.advance(Duration.ofMinutes(6));
    reconciliation.reconcile(run);
    Condition failed = condition(run, ConditionTypes.FAILED);
    assertThat(failed.getStatus()).isEqualTo("True");
    assertThat(failed.getReason()).isEqualTo("GpuUnschedulable");
    assertThat(failed.getMessage()).contains("Insufficient nvidia.com/gpu");
    assertThat(events.events)
        .anySatisfy(
            e -> {
              assertThat(e.reason()).isEqualTo("GpuUnschedulable");
              assertThat(e.type())
                  .isEqualTo(io.rolloutfarm.operator.kube.EventRecorder.Type.Warning);
            });
    assertThat(cluster.require(StatefulSet.class, NS, "demo-learner").getSpec().getReplicas())
        .isZero();
  }

  @Test
  void aFailureReportedByTheLearnerFailsTheRunWithItsMessage() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    farmBecomesReady(run);
    learner.set(
        "demo",
        TestingLearnerStatusClient.training(4, 0, 0.1).toBuilder()
            .setPhase(RunPhase.RUN_PHASE_FAILED)
            .setMessage("engine exited with code 137")
            .build());
    assertThat(reconciliation.reconcile(run)).isEmpty();
    Condition failed = condition(run, ConditionTypes.FAILED);
    assertThat(failed.getStatus()).isEqualTo("True");
    assertThat(failed.getReason()).isEqualTo("LearnerFailed");
    assertThat(failed.getMessage()).isEqualTo("engine exited with code 137");
    assertThat(statusOf(run, ConditionTypes.COMPLETE)).isEqualTo("False");
    assertThat(events.events)
        .anySatisfy(
            e -> {
              assertThat(e.reason()).isEqualTo("LearnerFailed");
              assertThat(e.type())
                  .isEqualTo(io.rolloutfarm.operator.kube.EventRecorder.Type.Warning);
            });
  }

  @Test
  void aTerminalDecisionHoldsEvenWhenTheCacheStillShowsTheOlderStatus() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    farmBecomesReady(run);
    TrainingRun stale = Fixtures.run("demo", NS);
    stale.getMetadata().setUid(run.getMetadata().getUid());
    stale.setStatus(run.getStatus());
    learner.set(
        "demo",
        TestingLearnerStatusClient.training(10, 0, 0.9).toBuilder()
            .setPhase(RunPhase.RUN_PHASE_COMPLETE)
            .build());
    reconciliation.reconcile(run);
    assertThat(statusOf(run, ConditionTypes.COMPLETE)).isEqualTo("True");

    // The learner is gone, and the next pass gets the run as it was before Complete was written.
    learner.unreachable("demo");
    assertThat(reconciliation.reconcile(stale)).isEmpty();
    assertThat(statusOf(stale, ConditionTypes.COMPLETE)).isEqualTo("True");
    assertThat(cluster.require(StatefulSet.class, NS, "demo-learner").getSpec().getReplicas())
        .isZero();
  }

  @Test
  void aRunUsingASharedPoolCreatesNoPoolOfItsOwn() {
    TrainingRun run = Fixtures.run("demo", NS);
    run.getSpec().sandbox.poolRef = "shared";
    reconciliation.reconcile(run);
    assertThat(cluster.get(SandboxPool.class, NS, "demo-sandbox")).isEmpty();
    assertThat(
            cluster
                .require(Deployment.class, NS, "demo-workers")
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .getFirst()
                .getArgs())
        .contains("dns:///shared:50051");
    assertThat(condition(run, ConditionTypes.SANDBOX_POOL_READY).getReason())
        .isEqualTo("PoolNotFound");
  }

  @Test
  void specChangesRollTheChildrenOnce() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    run.getSpec().rolloutWorkers.concurrency = 16;
    run.getMetadata().setGeneration(2L);
    reconciliation.reconcile(run);
    reconciliation.reconcile(run);
    // run.yaml changed, so the ConfigMap and every pod template (config hash) changed once.
    assertThat(cluster.replaces).isEqualTo(3);
    assertThat(cluster.require(ConfigMap.class, NS, "demo-config").getData().get("run.yaml"))
        .contains("concurrency: 16");
  }

  @Test
  void cleanupDeletesChildrenAndForgetsTheLearner() {
    TrainingRun run = Fixtures.run("demo", NS);
    reconciliation.reconcile(run);
    reconciliation.cleanup(run);
    assertThat(cluster.keys()).isEmpty();
    assertThat(learner.forgotten).containsEntry("demo", 1);
  }

  private Pod learnerPod() {
    return new PodBuilder(
            io.rolloutfarm.operator.testing.Fixtures.readyPod(
                "demo-learner-0",
                NS,
                Map.of(
                    Labels.NAME,
                    Labels.APP,
                    Labels.INSTANCE,
                    "demo",
                    Labels.COMPONENT,
                    Labels.LEARNER)))
        .editStatus()
        .withConditions()
        .endStatus()
        .build();
  }
}

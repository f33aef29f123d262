package io.rolloutfarm.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.rolloutfarm.api.v1alpha1.ConditionTypes;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.autoscaler.ScalingEvaluator;
import io.rolloutfarm.operator.Labels;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.children.PoolDependents;
import io.rolloutfarm.operator.kube.EventRecorder;
import io.rolloutfarm.operator.status.Conditions;
import io.rolloutfarm.operator.testing.Fixtures;
import io.rolloutfarm.operator.testing.TestingClock;
import io.rolloutfarm.operator.testing.TestingCluster;
import io.rolloutfarm.operator.testing.TestingEventRecorder;
import io.rolloutfarm.operator.testing.TestingStatusWriter;
import io.rolloutfarm.proto.v1.SandboxStats;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Plain reconcile() calls of a SandboxPool against hand-written fakes. */
class PoolReconciliationTest {
  private static final String NS = "ml";
  private final TestingCluster cluster = new TestingCluster();
  private final TestingEventRecorder events = new TestingEventRecorder();
  private final TestingStatusWriter statusWriter = new TestingStatusWriter();
  private final TestingClock clock = new TestingClock();
  private final Map<String, SandboxStats> stats = new HashMap<>();
  private final Map<String, Integer> pending = new HashMap<>();
  private final List<String> scraped = new java.util.ArrayList<>();
  private final PoolReconciliation reconciliation =
      new PoolReconciliation(
          cluster,
          new PoolDependents(OperatorSettings.defaults()),
          pod -> Optional.ofNullable(stats.get(pod.getMetadata().getName())),
          worker -> {
            scraped.add(worker.getMetadata().getName());
            return pending.getOrDefault(worker.getMetadata().getName(), 0);
          },
          new ScalingEvaluator(clock),
          events,
          statusWriter,
          clock);

  private static SandboxPool pool(String extra) {
    return Fixtures.pool(
        "sbx",
        NS,
        """
        minReplicas: 1
        maxReplicas: 8
        sessionsPerPod: 4
        scaleIntervalSeconds: 5
        runtimeClassName: gvisor
        """
            + extra);
  }

  private int replicas() {
    return cluster.require(Deployment.class, NS, "sbx").getSpec().getReplicas();
  }

  /** A ready sandbox pod answering GetStats with {@code busy} of 4 slots in use. */
  private void sandboxPod(String name, int busy) {
    cluster.put(
        Fixtures.readyPod(
            name,
            NS,
            Map.of(Labels.NAME, Labels.APP, Labels.COMPONENT, Labels.SANDBOX, Labels.POOL, "sbx")));
    stats.put(
        name,
        SandboxStats.newBuilder()
            .setCapacity(4)
            .setOpenSessions(busy)
            .setBusySessions(busy)
            .build());
  }

  private void workerPod(String name, int waiting) {
    cluster.put(
        Fixtures.readyPod(name, NS, Map.of(Labels.COMPONENT, Labels.WORKER, Labels.POOL, "sbx")));
    pending.put(name, waiting);
  }

  private void deploymentReady(int ready) {
    Deployment d = cluster.require(Deployment.class, NS, "sbx");
    d.setStatus(new DeploymentStatusBuilder().withReplicas(ready).withReadyReplicas(ready).build());
    cluster.put(d);
  }

  @Test
  void createsALockedDownSandboxWorkload() {
    SandboxPool pool = pool("");
    assertThat(reconciliation.reconcile(pool)).isEqualTo(Duration.ofSeconds(5));

    Deployment d = cluster.require(Deployment.class, NS, "sbx");
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getRuntimeClassName()).isEqualTo("gvisor");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    Container c = pod.getContainers().getFirst();
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getArgs()).containsSequence("--capacity", "4");
    assertThat(c.getVolumeMounts()).extracting(m -> m.getMountPath()).contains("/tmp", "/work");
    assertThat(pod.getVolumes()).allSatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());

    Service svc = cluster.require(Service.class, NS, "sbx");
    assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(svc.getSpec().getSelector()).isEqualTo(Labels.selectorForPool(pool));
    assertThat(
            cluster
                .require(PodDisruptionBudget.class, NS, "sbx")
                .getSpec()
                .getSelector()
                .getMatchLabels())
        .isEqualTo(Labels.selectorForPool(pool));
    NetworkPolicy np = cluster.require(NetworkPolicy.class, NS, "sbx");
    assertThat(np.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
    assertThat(np.getSpec().getEgress()).isNullOrEmpty();
    assertThat(np.getSpec().getIngress())
        .hasSize(3)
        .first()
        .satisfies(
            rule ->
                assertThat(rule.getFrom().getFirst().getPodSelector().getMatchLabels())
                    .isEqualTo(Map.of(Labels.COMPONENT, Labels.WORKER, Labels.POOL, "sbx")));
    // gRPC only from workers of the pool and the operator; metrics from any scraper.
    for (var rule : np.getSpec().getIngress()) {
      boolean grpc =
          rule.getPorts().stream()
              .anyMatch(p -> p.getPort().getIntVal() == OperatorSettings.GRPC_PORT);
      if (grpc) {
        assertThat(rule.getFrom()).isNotEmpty();
      } else {
        assertThat(rule.getFrom()).isNullOrEmpty();
        assertThat(rule.getPorts())
            .singleElement()
            .satisfies(
                p -> assertThat(p.getPort().getIntVal()).isEqualTo(OperatorSettings.METRICS_PORT));
      }
    }

    for (var child : List.of(d, svc, np)) {
      assertThat(child.getMetadata().getOwnerReferences())
          .singleElement()
          .satisfies(o -> assertThat(o.getUid()).isEqualTo(pool.getMetadata().getUid()));
    }
    assertThat(events.reasons()).containsOnly("Created").hasSize(4);
    assertThat(pool.getStatus().selector)
        .isEqualTo(
            "app.kubernetes.io/name=rollout-farm,app.kubernetes.io/component=sandbox,"
                + "rolloutfarm.io/sandbox-pool=sbx");
    assertThat(Conditions.find(pool.getStatus().conditions, ConditionTypes.READY))
        .get()
        .satisfies(
            r -> {
              assertThat(r.getStatus()).isEqualTo("False");
              assertThat(r.getReason()).isEqualTo("NoPodReady");
            });
  }

  @Test
  void workersPendingRequestsAreDemandTheAutoscalerActsOn() {
    SandboxPool pool = pool("");
    reconciliation.reconcile(pool);
    deploymentReady(1);
    sandboxPod("sbx-0", 4);
    // Both pods below are the pool's workers; only the ready one can be asked.
    workerPod("w-0", 8);
    var notReady =
        new io.fabric8.kubernetes.api.model.PodBuilder(
                Fixtures.readyPod(
                    "w-1", NS, Map.of(Labels.COMPONENT, Labels.WORKER, Labels.POOL, "sbx")))
            .editStatus()
            .withConditions()
            .endStatus()
            .build();
    cluster.put(notReady);
    pending.put("w-1", 100);

    clock.advance(Duration.ofSeconds(5));
    reconciliation.reconcile(pool);
    // demand 4 busy + 8 waiting = 12 slots; at 70 % of 4 per pod: 5; one step at most doubles.
    assertThat(replicas()).isEqualTo(2);
    assertThat(scraped).containsOnly("w-0");
    assertThat(pool.getStatus().busySessions).isEqualTo(4);
    assertThat(pool.getStatus().desiredReplicas).isEqualTo(2);
    assertThat(pool.getStatus().lastScalingDecision).contains("1 -> 2 replicas");
    assertThat(pool.getStatus().lastScaleTime).isEqualTo(clock.instant().toString());
    assertThat(events.events)
        .anySatisfy(
            e -> {
              assertThat(e.reason()).isEqualTo("Scaled");
              assertThat(e.type()).isEqualTo(EventRecorder.Type.Normal);
            });

    // Without the waiting worker, the same busy pod alone is within reach of two pods.
    pending.put("w-0", 0);
    clock.advance(Duration.ofSeconds(5));
    reconciliation.reconcile(pool);
    assertThat(replicas()).isEqualTo(2);
  }

  @Test
  void advisoryModeRecordsTheDecisionButKeepsTheSize() {
    SandboxPool pool = pool("advisory: true\n");
    reconciliation.reconcile(pool);
    deploymentReady(1);
    sandboxPod("sbx-0", 4);
    workerPod("w-0", 8);
    clock.advance(Duration.ofSeconds(5));
    reconciliation.reconcile(pool);

    assertThat(replicas()).isEqualTo(1);
    assertThat(pool.getStatus().lastScalingDecision).isNotBlank();
    assertThat(pool.getStatus().lastScaleTime).isNull();
    assertThat(events.events)
        .anySatisfy(
            e -> {
              assertThat(e.reason()).isEqualTo("ScalingRecommended");
              assertThat(e.message()).startsWith("advisory: ");
            });
    assertThat(events.reasons()).doesNotContain("Scaled");
  }

  @Test
  void anExternalScalerOwnsTheSizeThroughSpecReplicas() {
    SandboxPool pool = pool("");
    reconciliation.reconcile(pool);
    deploymentReady(1);
    sandboxPod("sbx-0", 4);
    workerPod("w-0", 8);
    pool.getSpec().replicas = 3; // what `kubectl scale sbp/sbx --replicas=3` or an HPA writes
    pool.getMetadata().setGeneration(2L);
    reconciliation.reconcile(pool);
    assertThat(replicas()).isEqualTo(3);
    assertThat(pool.getStatus().desiredReplicas).isEqualTo(3);
    assertThat(pool.getStatus().observedGeneration).isEqualTo(2L);
    assertThat(events.reasons()).doesNotContain("Scaled");
  }

  @Test
  void drainingOrSilentPodsAreNotCountedAsCapacity() {
    SandboxPool pool = pool("");
    reconciliation.reconcile(pool);
    deploymentReady(1);
    sandboxPod("sbx-0", 0);
    stats.put("sbx-0", stats.get("sbx-0").toBuilder().setDraining(true).build());
    var observed = reconciliation.observe(pool);
    assertThat(observed.metrics().readyPods()).isZero();
    assertThat(observed.metrics().pendingPods()).isEqualTo(1);

    stats.remove("sbx-0"); // GetStats does not answer
    assertThat(reconciliation.observe(pool).metrics().readyPods()).isZero();
  }

  @Test
  void anInvalidPoolSaysWhichFieldAndCreatesNothing() {
    SandboxPool pool =
        Fixtures.pool(
            "sbx",
            NS,
            """
            minReplicas: 5
            maxReplicas: 2
            """);
    reconciliation.reconcile(pool);
    reconciliation.reconcile(pool);
    assertThat(cluster.keys()).isEmpty();
    var ready = Conditions.find(pool.getStatus().conditions, ConditionTypes.READY).orElseThrow();
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("InvalidSpec");
    assertThat(ready.getMessage()).contains("spec.minReplicas");
    // One warning, not one per pass.
    assertThat(events.events)
        .filteredOn(e -> e.reason().equals("InvalidSpec"))
        .singleElement()
        .satisfies(e -> assertThat(e.type()).isEqualTo(EventRecorder.Type.Warning));
  }

  @Test
  void aSteadyPoolWritesNothingAndCleanupRemovesItsChildren() {
    SandboxPool pool = pool("");
    reconciliation.reconcile(pool);
    reconciliation.reconcile(pool);
    int creates = cluster.creates;
    long writes = statusWriter.writes();
    clock.advance(Duration.ofSeconds(5));
    reconciliation.reconcile(pool);
    assertThat(cluster.creates).isEqualTo(creates);
    assertThat(cluster.replaces).isZero();
    assertThat(statusWriter.writes()).isEqualTo(writes);

    reconciliation.cleanup(pool);
    assertThat(cluster.keys()).isEmpty();
  }
}

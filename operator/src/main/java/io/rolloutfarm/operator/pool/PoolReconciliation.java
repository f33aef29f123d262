package io.rolloutfarm.operator.pool;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.rolloutfarm.api.v1alpha1.ConditionTypes;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.SandboxPoolSpec;
import io.rolloutfarm.api.v1alpha1.SandboxPoolStatus;
import io.rolloutfarm.api.v1alpha1.SpecValidator;
import io.rolloutfarm.api.v1alpha1.Violation;
import io.rolloutfarm.autoscaler.AutoscalerSettings;
import io.rolloutfarm.autoscaler.PodLoad;
import io.rolloutfarm.autoscaler.PoolMetrics;
import io.rolloutfarm.autoscaler.SandboxAutoscaler;
import io.rolloutfarm.autoscaler.ScalingDecision;
import io.rolloutfarm.autoscaler.ScalingEvaluator;
import io.rolloutfarm.operator.Labels;
import io.rolloutfarm.operator.children.PoolDependents;
import io.rolloutfarm.operator.kube.ApplyOutcome;
import io.rolloutfarm.operator.kube.ChildApplier;
import io.rolloutfarm.operator.kube.ClusterClient;
import io.rolloutfarm.operator.kube.EventRecorder;
import io.rolloutfarm.operator.status.Conditions;
import io.rolloutfarm.operator.status.StatusWriter;
import io.rolloutfarm.proto.v1.SandboxStats;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One reconciliation of a {@link SandboxPool}: observe (Deployment, pods, their GetStats, the
 * workers' queues) → validate → decide the size (spec.replicas when an external scaler set it,
 * otherwise the autoscaler) → apply the children → write status.
 */
public final class PoolReconciliation {
  private final ClusterClient cluster;
  private final ChildApplier applier;
  private final PoolDependents dependents;
  private final SandboxStatsClient stats;
  private final WorkerQueueClient queues;
  private final ScalingEvaluator evaluator;
  private final EventRecorder events;
  private final StatusWriter statusWriter;
  private final Clock clock;
  private final AtomicLong passes = new AtomicLong();

  public PoolReconciliation(
      ClusterClient cluster,
      PoolDependents dependents,
      SandboxStatsClient stats,
      WorkerQueueClient queues,
      ScalingEvaluator evaluator,
      EventRecorder events,
      StatusWriter statusWriter,
      Clock clock) {
    this.cluster = cluster;
    this.applier = new ChildApplier(cluster);
    this.dependents = dependents;
    this.stats = stats;
    this.queues = queues;
    this.evaluator = evaluator;
    this.events = events;
    this.statusWriter = statusWriter;
    this.clock = clock;
  }

  /** What the cluster holds for a pool. */
  record Observed(Optional<Deployment> deployment, PoolMetrics metrics) {}

  /** Reconciles and returns when to look again. */
  public Duration reconcile(SandboxPool pool) {
    passes.incrementAndGet();
    SandboxPoolSpec spec = pool.getSpec();
    SandboxPoolStatus previous =
        pool.getStatus() == null ? new SandboxPoolStatus() : pool.getStatus();
    Duration interval = Duration.ofSeconds(spec.scaleIntervalSeconds);

    List<Violation> violations = SpecValidator.validate(pool);
    if (!violations.isEmpty()) {
      String message = SpecValidator.describe(violations);
      if (!"InvalidSpec".equals(readyReason(previous))) {
        events.warning(pool, "InvalidSpec", message);
      }
      SandboxPoolStatus status = copyFigures(previous);
      status.observedGeneration = pool.getMetadata().getGeneration();
      status.conditions =
          conditions(pool, previous)
              .set(ConditionTypes.READY, false, "InvalidSpec", message)
              .set(ConditionTypes.SCALING, false, "InvalidSpec", "the spec is invalid")
              .build();
      statusWriter.write(pool, status);
      return interval;
    }

    Observed observed = observe(pool);
    int current = observed.metrics().currentReplicas();
    String key = key(pool);
    int target;
    String decisionText = previous.lastScalingDecision;
    String lastScaleTime = previous.lastScaleTime;
    if (spec.replicas != null) {
      target = spec.replicas; // an HPA/KEDA or a person drives the pool through /scale
      evaluator.forget(key);
    } else if (observed.deployment().isEmpty()) {
      target = spec.minReplicas;
    } else {
      AtomicInteger decided = new AtomicInteger(current);
      SandboxAutoscaler autoscaler =
          new SandboxAutoscaler(
              p -> observed.metrics(),
              evaluator,
              (p, replicas) -> decided.set(replicas),
              (decision, applied) ->
                  events.normal(
                      pool,
                      applied ? "Scaled" : "ScalingRecommended",
                      (applied ? "" : "advisory: ") + decision.describe()));
      ScalingDecision decision;
      try {
        decision = autoscaler.run(key, settings(spec));
      } catch (Exception e) {
        throw new IllegalStateException("autoscaling " + key + " failed", e);
      }
      target = decided.get();
      if (decision.changesReplicas()) {
        decisionText = decision.describe();
        if (!spec.advisory) {
          lastScaleTime = clock.instant().toString();
        }
      }
    }

    record(pool, "Deployment", applier.apply(dependents.deployment(pool, target)));
    record(pool, "Service", applier.apply(dependents.service(pool)));
    record(pool, "PodDisruptionBudget", applier.apply(dependents.disruptionBudget(pool)));
    record(pool, "NetworkPolicy", applier.apply(dependents.networkPolicy(pool)));

    SandboxPoolStatus status = new SandboxPoolStatus();
    status.observedGeneration = pool.getMetadata().getGeneration();
    Deployment d = observed.deployment().orElse(null);
    status.replicas = d == null || d.getStatus() == null ? 0 : orZero(d.getStatus().getReplicas());
    status.readyReplicas =
        d == null || d.getStatus() == null ? 0 : orZero(d.getStatus().getReadyReplicas());
    status.busySessions = observed.metrics().busySessions();
    status.openSessions = observed.metrics().openSessions();
    status.selector = Labels.toSelectorString(Labels.selectorForPool(pool));
    status.desiredReplicas = target;
    status.lastScalingDecision = decisionText;
    status.lastScaleTime = lastScaleTime;
    boolean ready = status.readyReplicas > 0;
    status.conditions =
        conditions(pool, previous)
            .set(
                ConditionTypes.READY,
                ready,
                ready ? "PodsReady" : (target == 0 ? "ScaledToZero" : "NoPodReady"),
                status.readyReplicas + "/" + target + " sandbox pods ready")
            .set(
                ConditionTypes.SCALING,
                status.readyReplicas != target,
                status.readyReplicas != target ? "Resizing" : "AtDesiredSize",
                "desired " + target + ", ready " + status.readyReplicas)
            .build();
    statusWriter.write(pool, status);
    return interval;
  }

  /** Reconciliations done so far (diagnostics and the operator benchmark). */
  public long passes() {
    return passes.get();
  }

  /** Forgets the pool's autoscaling history and deletes its children (ahead of the GC). */
  public void cleanup(SandboxPool pool) {
    evaluator.forget(key(pool));
    String ns = pool.getMetadata().getNamespace();
    String name = pool.getMetadata().getName();
    cluster.delete(Deployment.class, ns, name);
    cluster.delete(Service.class, ns, name);
    cluster.delete(PodDisruptionBudget.class, ns, name);
    cluster.delete(NetworkPolicy.class, ns, name);
  }

  Observed observe(SandboxPool pool) {
    String ns = pool.getMetadata().getNamespace();
    Optional<Deployment> deployment =
        cluster.get(Deployment.class, ns, pool.getMetadata().getName());
    int current =
        deployment.map(d -> d.getSpec().getReplicas()).map(PoolReconciliation::orZero).orElse(0);
    List<PodLoad> loads = new ArrayList<>();
    for (Pod pod : cluster.pods(ns, Labels.selectorForPool(pool))) {
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      String name = pod.getMetadata().getName();
      Optional<SandboxStats> s = isReady(pod) ? stats.stats(pod) : Optional.empty();
      loads.add(
          s.filter(st -> !st.getDraining())
              .map(
                  st ->
                      new PodLoad(
                          name,
                          true,
                          (int) st.getCapacity(),
                          (int) st.getOpenSessions(),
                          (int) st.getBusySessions()))
              .orElseGet(() -> PodLoad.pending(name)));
    }
    int pending =
        cluster
            .pods(
                ns,
                Map.of(Labels.COMPONENT, Labels.WORKER, Labels.POOL, pool.getMetadata().getName()))
            .stream()
            .filter(PoolReconciliation::isReady)
            .mapToInt(queues::pendingSandboxRequests)
            .sum();
    return new Observed(deployment, new PoolMetrics(current, loads, pending));
  }

  static AutoscalerSettings settings(SandboxPoolSpec spec) {
    return new AutoscalerSettings(
        spec.minReplicas,
        spec.maxReplicas,
        spec.sessionsPerPod,
        spec.targetUtilization,
        spec.tolerance,
        Duration.ofSeconds(spec.scaleDownWindowSeconds),
        spec.maxStepFactor,
        spec.advisory);
  }

  static boolean isReady(Pod pod) {
    return pod.getStatus() != null
        && pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private void record(SandboxPool pool, String kind, ApplyOutcome outcome) {
    if (outcome == ApplyOutcome.CREATED) {
      events.normal(pool, "Created", "created " + kind + " " + pool.getMetadata().getName());
    }
  }

  private Conditions conditions(SandboxPool pool, SandboxPoolStatus previous) {
    return new Conditions(
        previous.conditions, orZero(pool.getMetadata().getGeneration()), clock.instant());
  }

  private static String readyReason(SandboxPoolStatus status) {
    return Conditions.find(status.conditions, ConditionTypes.READY)
        .map(c -> c.getReason())
        .orElse(null);
  }

  private static SandboxPoolStatus copyFigures(SandboxPoolStatus previous) {
    SandboxPoolStatus s = new SandboxPoolStatus();
    s.replicas = previous.replicas;
    s.readyReplicas = previous.readyReplicas;
    s.busySessions = previous.busySessions;
    s.openSessions = previous.openSessions;
    s.selector = previous.selector;
    s.desiredReplicas = previous.desiredReplicas;
    s.lastScalingDecision = previous.lastScalingDecision;
    s.lastScaleTime = previous.lastScaleTime;
    return s;
  }

  private static String key(SandboxPool pool) {
    return pool.getMetadata().getNamespace() + "/" + pool.getMetadata().getName();
  }

  private static int orZero(Integer v) {
    return v == null ? 0 : v;
  }

  private static long orZero(Long v) {
    return v == null ? 0 : v;
  }
}

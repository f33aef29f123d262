package io.rolloutfarm.operator.run;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.rolloutfarm.api.v1alpha1.ConditionTypes;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.api.v1alpha1.TrainingRunStatus;
import io.rolloutfarm.operator.Names;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.children.RunDependents;
import io.rolloutfarm.operator.kube.ApplyOutcome;
import io.rolloutfarm.operator.kube.ChildApplier;
import io.rolloutfarm.operator.kube.ClusterClient;
import io.rolloutfarm.operator.kube.EventRecorder;
import io.rolloutfarm.operator.learner.LearnerStatusClient;
import io.rolloutfarm.operator.status.Conditions;
import io.rolloutfarm.operator.status.StatusWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One reconciliation of a {@link TrainingRun}: observe → validate (inside the lifecycle decision) →
 * reconcile the children for that lifecycle → write status through the one status writer. The JOSDK
 * controller only delegates here, so tests drive it directly with fakes.
 */
public final class RunReconciliation {
  private final ClusterClient cluster;
  private final ChildApplier applier;
  private final RunDependents dependents;
  private final RunObserver observer;
  private final LifecycleResolver lifecycles;
  private final RunStatusComputer statuses = new RunStatusComputer();
  private final LearnerStatusClient learnerStatus;
  private final EventRecorder events;
  private final StatusWriter statusWriter;
  private final OperatorSettings settings;
  private final Clock clock;
  private final AtomicLong passes = new AtomicLong();
  private final Map<String, Lifecycle> terminal = new ConcurrentHashMap<>();

  public RunReconciliation(
      ClusterClient cluster,
      RunDependents dependents,
      LearnerStatusClient learnerStatus,
      EventRecorder events,
      StatusWriter statusWriter,
      OperatorSettings settings,
      Clock clock) {
    this.cluster = cluster;
    this.applier = new ChildApplier(cluster);
    this.dependents = dependents;
    this.observer = new RunObserver(cluster, learnerStatus);
    this.lifecycles = new LifecycleResolver(settings);
    this.learnerStatus = learnerStatus;
    this.events = events;
    this.statusWriter = statusWriter;
    this.settings = settings;
    this.clock = clock;
  }

  /**
   * Reconciles; returns when to look again (empty for terminal runs, which only spec edits wake).
   */
  public Optional<Duration> reconcile(TrainingRun run) {
    passes.incrementAndGet();
    Instant now = clock.instant();
    ObservedRun observed = observer.observe(run);
    // A terminal decision is final. It is also remembered here, because the cache may still hand
    // over the run with its status from before that decision was written.
    Lifecycle lifecycle =
        Optional.ofNullable(terminal.get(run.getMetadata().getUid()))
            .orElseGet(() -> lifecycles.resolve(run, observed, now));
    if (lifecycle.phase().terminal()) {
      terminal.put(run.getMetadata().getUid(), lifecycle);
    }

    if (lifecycle.phase() != Lifecycle.Phase.INVALID) {
      applyChildren(run, lifecycle.phase());
    }
    TrainingRunStatus previous = run.getStatus();
    TrainingRunStatus status = statuses.compute(run, observed, lifecycle, now);
    recordTransitions(run, previous, status);
    statusWriter.write(run, status);
    return lifecycle.phase().terminal()
        ? Optional.empty()
        : Optional.of(settings.statusPollInterval());
  }

  /** Reconciliations done so far (diagnostics and the operator benchmark). */
  public long passes() {
    return passes.get();
  }

  /** Forgets the run's connections and deletes its children (the GC would, a bit later). */
  public void cleanup(TrainingRun run) {
    terminal.remove(run.getMetadata().getUid());
    learnerStatus.forget(run);
    String ns = run.getMetadata().getNamespace();
    if (run.getSpec() == null) {
      return;
    }
    cluster.delete(Deployment.class, ns, Names.workers(run));
    cluster.delete(StatefulSet.class, ns, Names.learner(run));
    cluster.delete(Service.class, ns, Names.learner(run));
    cluster.delete(ConfigMap.class, ns, Names.configMap(run));
    cluster.delete(SandboxPool.class, ns, Names.inlinePool(run));
  }

  private void applyChildren(TrainingRun run, Lifecycle.Phase phase) {
    boolean terminal = phase.terminal();
    boolean paused = terminal || phase == Lifecycle.Phase.SUSPENDED;
    // Terminal runs free their GPUs and CPUs; a suspended run keeps its learner (and its state).
    int learners = terminal ? 0 : run.getSpec().learner.replicas;
    int workers = paused ? 0 : run.getSpec().rolloutWorkers.replicas;
    record(run, dependents.configMap(run));
    record(run, dependents.learnerService(run));
    record(run, dependents.learner(run, learners));
    if (run.getSpec().sandbox.poolRef == null) {
      record(run, dependents.inlinePool(run, paused ? Integer.valueOf(0) : null));
    }
    record(run, dependents.workers(run, workers));
  }

  private void record(TrainingRun run, HasMetadata desired) {
    ApplyOutcome outcome = applier.apply(desired);
    if (outcome != ApplyOutcome.UNCHANGED) {
      events.normal(
          run,
          outcome == ApplyOutcome.CREATED ? "Created" : "Updated",
          (outcome == ApplyOutcome.CREATED ? "created " : "updated ")
              + desired.getKind()
              + " "
              + desired.getMetadata().getName());
    }
  }

  /** Events for the transitions people care about. */
  private void recordTransitions(
      TrainingRun run, TrainingRunStatus previous, TrainingRunStatus next) {
    var before = previous == null ? null : previous.conditions;
    for (String type :
        new String[] {
          ConditionTypes.FAILED,
          ConditionTypes.COMPLETE,
          ConditionTypes.SUSPENDED,
          ConditionTypes.READY
        }) {
      boolean was = Conditions.isTrue(before, type);
      var now = Conditions.find(next.conditions, type).orElseThrow();
      boolean is = "True".equals(now.getStatus());
      if (is && !was) {
        if (type.equals(ConditionTypes.FAILED)) {
          events.warning(run, now.getReason(), now.getMessage());
        } else {
          events.normal(
              run, type.equals(ConditionTypes.READY) ? "Ready" : now.getReason(), now.getMessage());
        }
      } else if (was && !is && type.equals(ConditionTypes.SUSPENDED)) {
        events.normal(run, "Resumed", "spec.suspend is false: scaling the farm back up");
      }
    }
  }
}

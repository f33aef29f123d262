package io.rolloutfarm.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.quarkus.arc.DefaultBean;
import io.rolloutfarm.autoscaler.ScalingEvaluator;
import io.rolloutfarm.operator.children.PoolDependents;
import io.rolloutfarm.operator.children.RunDependents;
import io.rolloutfarm.operator.kube.ClusterClient;
import io.rolloutfarm.operator.kube.EventRecorder;
import io.rolloutfarm.operator.learner.LearnerStatusClient;
import io.rolloutfarm.operator.pool.PoolReconciliation;
import io.rolloutfarm.operator.pool.SandboxStatsClient;
import io.rolloutfarm.operator.pool.WorkerQueueClient;
import io.rolloutfarm.operator.run.RunReconciliation;
import io.rolloutfarm.operator.status.StatusWriter;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;

/** Wires the Kubernetes-free reconciliation classes for the running operator. */
public class OperatorBeans {

  @Produces
  @Singleton
  OperatorSettings settings(OperatorConfig config) {
    return config.toSettings();
  }

  @Produces
  @Singleton
  @DefaultBean
  Clock clock() {
    return Clock.systemUTC();
  }

  /**
   * Read by quarkus-operator-sdk in the prod profile; null (no bean value) leaves leader election
   * off. The Lease lives in the operator's own namespace.
   */
  @Produces
  @Dependent
  LeaderElectionConfiguration leaderElection(OperatorConfig config) {
    if (!config.leaderElection().enabled()) {
      return null;
    }
    String namespace = System.getenv("POD_NAMESPACE");
    return namespace == null || namespace.isBlank()
        ? new LeaderElectionConfiguration(config.leaderElection().leaseName())
        : new LeaderElectionConfiguration(config.leaderElection().leaseName(), namespace);
  }

  @Produces
  @Singleton
  ScalingEvaluator scalingEvaluator(Clock clock) {
    return new ScalingEvaluator(clock);
  }

  @Produces
  @Singleton
  RunReconciliation runReconciliation(
      ClusterClient cluster,
      OperatorSettings settings,
      LearnerStatusClient learnerStatus,
      EventRecorder events,
      StatusWriter statusWriter,
      Clock clock) {
    return new RunReconciliation(
        cluster, new RunDependents(settings), learnerStatus, events, statusWriter, settings, clock);
  }

  @Produces
  @Singleton
  PoolReconciliation poolReconciliation(
      ClusterClient cluster,
      OperatorSettings settings,
      SandboxStatsClient stats,
      WorkerQueueClient queues,
      ScalingEvaluator evaluator,
      EventRecorder events,
      StatusWriter statusWriter,
      Clock clock) {
    return new PoolReconciliation(
        cluster,
        new PoolDependents(settings),
        stats,
        queues,
        evaluator,
        events,
        statusWriter,
        clock);
  }
}

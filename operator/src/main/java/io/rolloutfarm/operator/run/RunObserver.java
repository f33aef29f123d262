package io.rolloutfarm.operator.run;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.operator.Labels;
import io.rolloutfarm.operator.Names;
import io.rolloutfarm.operator.kube.ClusterClient;
import io.rolloutfarm.operator.learner.LearnerObservation;
import io.rolloutfarm.operator.learner.LearnerStatusClient;
import java.util.Optional;

/** Reads a run's children and its learner's status. Never writes. */
public final class RunObserver {
  private final ClusterClient cluster;
  private final LearnerStatusClient learnerStatus;

  public RunObserver(ClusterClient cluster, LearnerStatusClient learnerStatus) {
    this.cluster = cluster;
    this.learnerStatus = learnerStatus;
  }

  public ObservedRun observe(TrainingRun run) {
    String ns = run.getMetadata().getNamespace();
    Optional<StatefulSet> learner = cluster.get(StatefulSet.class, ns, Names.learner(run));
    ObservedRun partial =
        new ObservedRun(
            learner,
            cluster.pods(ns, Labels.selectorForRun(run, Labels.LEARNER)),
            cluster.get(Deployment.class, ns, Names.workers(run)),
            cluster.get(SandboxPool.class, ns, Names.pool(run)),
            new LearnerObservation.Unreachable("no learner pod is ready"));
    if (partial.learnerReadyReplicas() == 0) {
      return partial; // nothing would answer; skip a connection attempt and its deadline
    }
    return new ObservedRun(
        partial.learner(),
        partial.learnerPods(),
        partial.workers(),
        partial.pool(),
        learnerStatus.observe(run));
  }
}

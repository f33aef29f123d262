package io.rolloutfarm.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.operator.learner.LearnerObservation;
import java.util.List;
import java.util.Optional;

/** Everything the operator saw of one run's farm in one pass. */
public record ObservedRun(
    Optional<StatefulSet> learner,
    List<Pod> learnerPods,
    Optional<Deployment> workers,
    Optional<SandboxPool> pool,
    LearnerObservation learnerStatus) {

  public int learnerReadyReplicas() {
    return learner
        .map(s -> s.getStatus() == null ? null : s.getStatus().getReadyReplicas())
        .orElse(0);
  }

  public int workerReadyReplicas() {
    return workers
        .map(d -> d.getStatus() == null ? null : d.getStatus().getReadyReplicas())
        .map(r -> r == null ? 0 : r)
        .orElse(0);
  }
}

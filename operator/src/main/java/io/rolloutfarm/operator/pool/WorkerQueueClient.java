package io.rolloutfarm.operator.pool;

import io.fabric8.kubernetes.api.model.Pod;

/**
 * Sandbox sessions a rollout worker is waiting for (it could not open them for lack of a free
 * slot). Read from the worker's Prometheus endpoint, gauge {@value #METRIC}.
 */
public interface WorkerQueueClient {
  String METRIC = "rolloutfarm_worker_sandbox_pending_requests";

  int pendingSandboxRequests(Pod worker);
}

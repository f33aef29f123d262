package io.rolloutfarm.operator.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.rolloutfarm.operator.pool.WorkerQueueClient;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Pending sandbox requests per worker pod name, in place of scraping pod IPs. */
@Alternative
@Priority(1)
@Singleton
public class FakeWorkerQueues implements WorkerQueueClient {
  public final Map<String, Integer> byPod = new ConcurrentHashMap<>();
  public final Map<String, Integer> calls = new ConcurrentHashMap<>();

  @Override
  public int pendingSandboxRequests(Pod worker) {
    calls.merge(worker.getMetadata().getName(), 1, Integer::sum);
    return byPod.getOrDefault(worker.getMetadata().getName(), 0);
  }
}

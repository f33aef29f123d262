package io.rolloutfarm.autoscaler;

import java.util.List;

/**
 * What the collector saw of one pool at one instant.
 *
 * @param currentReplicas the replicas the pool is currently asked to run (ready or not)
 * @param pods the pool's pods that exist
 * @param pendingRequests sandbox sessions the workers are waiting for because no slot was free
 */
public record PoolMetrics(int currentReplicas, List<PodLoad> pods, int pendingRequests) {
  public PoolMetrics {
    if (currentReplicas < 0 || pendingRequests < 0) {
      throw new IllegalArgumentException("negative replicas or pending requests");
    }
    pods = List.copyOf(pods);
  }

  public int readyPods() {
    return (int) pods.stream().filter(PodLoad::ready).count();
  }

  /** Pods asked for that do not serve yet (created but not ready, or not created yet). */
  public int pendingPods() {
    return Math.max(0, currentReplicas - readyPods());
  }

  public int busySessions() {
    return pods.stream().filter(PodLoad::ready).mapToInt(PodLoad::busySessions).sum();
  }

  public int openSessions() {
    return pods.stream().filter(PodLoad::ready).mapToInt(PodLoad::openSessions).sum();
  }

  /** Session slots wanted right now: slots in use on ready pods plus queued requests. */
  public int demand() {
    return pods.stream().mapToInt(PodLoad::usedSlots).sum() + pendingRequests;
  }
}

package io.rolloutfarm.autoscaler;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * A pool of sandbox pods driven by a synthetic load trace. Pods become ready {@code readyDelay}
 * intervals after they are created, except those that {@code neverReady} picks (by creation index).
 * Demand fills ready pods up to their capacity; the rest waits as pending requests.
 */
final class SimulatedPool implements MetricsCollector, ScalingRealizer {
  private static final class Pod {
    final int index;
    final int readyAt;

    Pod(int index, int readyAt) {
      this.index = index;
      this.readyAt = readyAt;
    }
  }

  private final int capacity;
  private final int readyDelay;
  private final IntPredicate neverReady;
  private final List<Pod> pods = new ArrayList<>();
  private int replicas;
  private int created;
  private int tick;
  private int demand;
  int scaleCalls;

  SimulatedPool(int initialReplicas, int capacity, int readyDelay, IntPredicate neverReady) {
    this.capacity = capacity;
    this.readyDelay = readyDelay;
    this.neverReady = neverReady;
    this.replicas = initialReplicas;
    reconcilePods();
    // Initial pods are already up.
    pods.replaceAll(p -> new Pod(p.index, neverReady.test(p.index) ? Integer.MAX_VALUE : 0));
  }

  void setDemand(int sessions) {
    demand = sessions;
  }

  /** One interval passes. */
  void tick() {
    tick++;
  }

  int replicas() {
    return replicas;
  }

  int podsCreated() {
    return created;
  }

  int readyPods() {
    return (int) pods.stream().filter(p -> p.readyAt <= tick).count();
  }

  @Override
  public PoolMetrics collect(String pool) {
    List<PodLoad> loads = new ArrayList<>();
    int left = demand;
    for (Pod p : pods) {
      if (p.readyAt <= tick) {
        int used = Math.min(capacity, left);
        left -= used;
        loads.add(new PodLoad("pod-" + p.index, true, capacity, used, used / 2));
      } else {
        loads.add(PodLoad.pending("pod-" + p.index));
      }
    }
    return new PoolMetrics(replicas, loads, left);
  }

  @Override
  public void scale(String pool, int target) {
    scaleCalls++;
    replicas = target;
    reconcilePods();
  }

  private void reconcilePods() {
    while (pods.size() < replicas) {
      int index = created++;
      pods.add(new Pod(index, neverReady.test(index) ? Integer.MAX_VALUE : tick + readyDelay));
    }
    while (pods.size() > replicas) {
      // Like a ReplicaSet: pods that are not ready go first.
      Pod victim = pods.stream().filter(p -> p.readyAt > tick).findFirst().orElse(pods.getLast());
      pods.remove(victim);
    }
  }
}

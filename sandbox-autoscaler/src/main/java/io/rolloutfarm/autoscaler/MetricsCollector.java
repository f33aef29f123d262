package io.rolloutfarm.autoscaler;

/** Reads the load of a pool (on a cluster: {@code GetStats} of each pod plus worker queues). */
@FunctionalInterface
public interface MetricsCollector {
  PoolMetrics collect(String pool) throws Exception;
}

package io.rolloutfarm.autoscaler;

/** Puts a decision into effect (on a cluster: sets the pool Deployment's replicas). */
@FunctionalInterface
public interface ScalingRealizer {
  void scale(String pool, int replicas) throws Exception;
}

package io.rolloutfarm.autoscaler;

/** Receives every decision that changes (or in advisory mode would change) a pool's size. */
@FunctionalInterface
public interface ScalingEventSink {
  /**
   * @param applied false in advisory mode: the decision was computed but not acted on
   */
  void onDecision(ScalingDecision decision, boolean applied);
}

package io.rolloutfarm.autoscaler;

import java.util.Objects;

/**
 * One autoscaling pass over one pool: collect → evaluate → realize. Callers run it every interval
 * (the operator does so on each pool reconciliation).
 */
public final class SandboxAutoscaler {
  private final MetricsCollector collector;
  private final ScalingEvaluator evaluator;
  private final ScalingRealizer realizer;
  private final ScalingEventSink events;

  public SandboxAutoscaler(
      MetricsCollector collector,
      ScalingEvaluator evaluator,
      ScalingRealizer realizer,
      ScalingEventSink events) {
    this.collector = Objects.requireNonNull(collector);
    this.evaluator = Objects.requireNonNull(evaluator);
    this.realizer = Objects.requireNonNull(realizer);
    this.events = Objects.requireNonNull(events);
  }

  /**
   * Evaluates the pool and, unless the settings are advisory, scales it.
   *
   * @throws Exception when the metrics cannot be collected or the scaling cannot be applied; the
   *     pool keeps its size then
   */
  public ScalingDecision run(String pool, AutoscalerSettings settings) throws Exception {
    PoolMetrics metrics = collector.collect(pool);
    ScalingDecision decision = evaluator.evaluate(pool, metrics, settings);
    if (decision.changesReplicas()) {
      if (!settings.advisory()) {
        realizer.scale(pool, decision.targetReplicas());
      }
      events.onDecision(decision, !settings.advisory());
    }
    return decision;
  }

  public void forget(String pool) {
    evaluator.forget(pool);
  }
}

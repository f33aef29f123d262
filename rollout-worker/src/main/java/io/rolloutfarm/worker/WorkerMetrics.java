package io.rolloutfarm.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.Trajectory;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker's metrics (Prometheus names in brackets): trajectories by end reason
 * [rollout_trajectories_total{end_reason}], turns and tool calls per trajectory
 * [rollout_turns_per_trajectory, rollout_tool_calls_per_trajectory], policy and sandbox latency
 * [rollout_policy_latency_seconds, rollout_sandbox_latency_seconds{op}], in-flight trajectories
 * [rollout_inflight_trajectories], infrastructure retries [rollout_infra_retries_total{kind}] and
 * trajectories waiting for a sandbox session [rolloutfarm_worker_sandbox_pending_requests], which
 * the operator's sandbox autoscaler reads as queued demand. Labels are low-cardinality enums only.
 */
public final class WorkerMetrics {
  private final MeterRegistry registry;
  private final Map<EndReason, Counter> byEndReason = new EnumMap<>(EndReason.class);
  private final DistributionSummary turns;
  private final DistributionSummary toolCalls;
  private final Timer policyLatency;
  private final Timer sandboxOpen;
  private final Timer sandboxExecute;
  private final Timer sandboxClose;
  private final Counter sandboxRetries;
  private final Counter policyRetries;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger sandboxPending = new AtomicInteger();

  public WorkerMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (EndReason reason : EndReason.values()) {
      if (reason == EndReason.UNRECOGNIZED || reason == EndReason.END_REASON_UNSPECIFIED) {
        continue;
      }
      byEndReason.put(
          reason,
          Counter.builder("rollout.trajectories")
              .description("Finished trajectories by end reason")
              .tag("end_reason", reason.name().substring("END_REASON_".length()))
              .register(registry));
    }
    turns =
        DistributionSummary.builder("rollout.turns.per.trajectory")
            .description("Model turns per finished trajectory")
            .publishPercentileHistogram()
            .minimumExpectedValue(1.0)
            .maximumExpectedValue(64.0)
            .register(registry);
    toolCalls =
        DistributionSummary.builder("rollout.tool.calls.per.trajectory")
            .description("Executed code blocks per finished trajectory")
            .publishPercentileHistogram()
            .minimumExpectedValue(1.0)
            .maximumExpectedValue(64.0)
            .register(registry);
    policyLatency =
        Timer.builder("rollout.policy.latency")
            .description("Time of one policy generation")
            .publishPercentileHistogram()
            .register(registry);
    sandboxOpen = sandboxTimer("open");
    sandboxExecute = sandboxTimer("execute");
    sandboxClose = sandboxTimer("close");
    sandboxRetries = retryCounter("sandbox");
    policyRetries = retryCounter("policy");
    registry.gauge("rollout.inflight.trajectories", inFlight);
    Gauge.builder("rolloutfarm.worker.sandbox.pending.requests", sandboxPending, AtomicInteger::get)
        .description(
            "Trajectories waiting for a sandbox session (opening, or backing off a full pool)")
        .register(registry);
  }

  /** Metrics into a private in-memory registry (tests, the one-shot CLI). */
  public static WorkerMetrics inMemory() {
    return new WorkerMetrics(new SimpleMeterRegistry());
  }

  private Timer sandboxTimer(String op) {
    return Timer.builder("rollout.sandbox.latency")
        .description("Time of one sandbox call")
        .tag("op", op)
        .publishPercentileHistogram()
        .register(registry);
  }

  private Counter retryCounter(String kind) {
    return Counter.builder("rollout.infra.retries")
        .description("Trajectories restarted after an infrastructure failure")
        .tag("kind", kind)
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Counts a trajectory as started; pair with {@link #finished}. */
  public void started() {
    inFlight.incrementAndGet();
  }

  /** Counts a trajectory as done (or abandoned, when {@code trajectory} is null). */
  public void finished(Trajectory trajectory) {
    inFlight.decrementAndGet();
    if (trajectory == null) {
      return;
    }
    Counter c = byEndReason.get(trajectory.getEndReason());
    if (c != null) {
      c.increment();
    }
    turns.record(trajectory.getTurnsCount());
    toolCalls.record(trajectory.getToolCalls());
  }

  public int inFlight() {
    return inFlight.get();
  }

  /** A trajectory starts waiting for a sandbox session; pair with {@link #sandboxWaitEnded}. */
  public void sandboxWaitStarted() {
    sandboxPending.incrementAndGet();
  }

  public void sandboxWaitEnded() {
    sandboxPending.decrementAndGet();
  }

  /** Trajectories waiting for a sandbox session now. */
  public int sandboxPending() {
    return sandboxPending.get();
  }

  public void policy(Duration d) {
    policyLatency.record(d);
  }

  public void sandboxOpen(Duration d) {
    sandboxOpen.record(d);
  }

  public void sandboxExecute(Duration d) {
    sandboxExecute.record(d);
  }

  public void sandboxClose(Duration d) {
    sandboxClose.record(d);
  }

  /** Counts an infrastructure retry. */
  public void retried(boolean sandbox) {
    (sandbox ? sandboxRetries : policyRetries).increment();
  }

  /** Finished trajectories with this end reason so far. */
  public double count(EndReason reason) {
    Counter c = byEndReason.get(reason);
    return c == null ? 0 : c.count();
  }
}

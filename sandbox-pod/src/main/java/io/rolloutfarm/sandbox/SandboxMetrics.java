package io.rolloutfarm.sandbox;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The sandbox server's metrics (Prometheus names in brackets): open and busy sessions and the
 * capacity [sandbox_sessions_open, sandbox_sessions_busy, sandbox_sessions_capacity], execute
 * latency by status [sandbox_execute_latency_seconds{status}], open latency
 * [sandbox_open_latency_seconds], kills by reason [sandbox_session_kills_total{reason}] and
 * executions [sandbox_executions_total]. Labels are low-cardinality enums.
 */
final class SandboxMetrics {
  private final Map<KillReason, Counter> kills = new EnumMap<>(KillReason.class);
  private final Map<String, Timer> execute = new java.util.concurrent.ConcurrentHashMap<>();
  private final MeterRegistry registry;
  private final Timer open;

  SandboxMetrics(
      MeterRegistry registry, int capacity, Supplier<Number> openSessions, Supplier<Number> busy) {
    this.registry = registry;
    Gauge.builder("sandbox.sessions.open", openSessions)
        .description("Open sessions")
        .register(registry);
    Gauge.builder("sandbox.sessions.busy", busy)
        .description("Sessions executing code")
        .register(registry);
    Gauge.builder("sandbox.sessions.capacity", () -> capacity)
        .description("Maximum open sessions")
        .register(registry);
    open =
        Timer.builder("sandbox.open.latency")
            .description("OpenSession latency, media decoding included")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry);
    for (KillReason reason : KillReason.values()) {
      kills.put(
          reason,
          Counter.builder("sandbox.session.kills")
              .description("Sessions ended, by reason")
              .tag("reason", reason.label)
              .register(registry));
    }
  }

  void opened(Duration d) {
    open.record(d);
  }

  void executed(String status, Duration d) {
    execute
        .computeIfAbsent(
            status,
            s ->
                Timer.builder("sandbox.execute.latency")
                    .description("Execute latency, by outcome")
                    .tag("status", s)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(100_000))
                    .maximumExpectedValue(Duration.ofMinutes(5))
                    .register(registry))
        .record(d);
  }

  void killed(KillReason reason) {
    kills.get(reason).increment();
  }

  double kills(KillReason reason) {
    return kills.get(reason).count();
  }
}

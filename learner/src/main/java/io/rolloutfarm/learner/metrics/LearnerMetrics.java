package io.rolloutfarm.learner.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Prometheus metrics of the learner through Micrometer, served at {@code /metrics}. Labels stay
 * low-cardinality: filter reasons, phases, RPC names.
 */
public final class LearnerMetrics implements StepListener, AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, AtomicDouble> stepValues = new ConcurrentHashMap<>();
  private final AtomicLong step = new AtomicLong();
  private final AtomicLong policyVersion = new AtomicLong();
  private final Timer sampleBatch;
  private HttpServer http;
  private JvmGcMetrics gc;

  /** A settable double for gauges. */
  private static final class AtomicDouble {
    private final AtomicLong bits = new AtomicLong();

    void set(double v) {
      bits.set(Double.doubleToLongBits(v));
    }

    double get() {
      return Double.longBitsToDouble(bits.get());
    }
  }

  public LearnerMetrics() {
    Gauge.builder("rolloutfarm_learner_step", step, AtomicLong::get)
        .description("RL steps completed")
        .register(registry);
    Gauge.builder("rolloutfarm_learner_policy_version", policyVersion, AtomicLong::get)
        .description("Current policy version")
        .register(registry);
    sampleBatch =
        Timer.builder("rolloutfarm_learner_sample_batch")
            .description("Engine sample calls made by dynamic batching")
            .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Registers a gauge read on every scrape (active leases, engine health, ...). */
  public void gauge(String name, String description, Supplier<Number> value) {
    // Strong reference: Micrometer holds gauge state weakly, and nothing else keeps the supplier.
    Gauge.builder(name, value, v -> v.get().doubleValue())
        .description(description)
        .strongReference(true)
        .register(registry);
  }

  public Counter counter(String name, String description, String... tags) {
    return Counter.builder(name).description(description).tags(tags).register(registry);
  }

  /** One dynamic batch sent to the engine: its size and how long it took. */
  public void recordSampleBatch(int size, Duration took) {
    sampleBatch.record(took);
    registry.summary("rolloutfarm_learner_sample_batch_size", "unit", "requests").record(size);
  }

  @Override
  public void onStep(StepMetrics metrics) {
    if ("train".equals(metrics.phase())) {
      step.set(metrics.step());
    }
    policyVersion.set(metrics.policyVersion());
    for (Map.Entry<String, Double> e : metrics.values().entrySet()) {
      String key = metrics.phase() + "/" + e.getKey();
      stepValues
          .computeIfAbsent(
              key,
              k -> {
                AtomicDouble holder = new AtomicDouble();
                Gauge.builder("rolloutfarm_learner_step_metric", holder, AtomicDouble::get)
                    .description("Latest value of a per-step metric")
                    .tags("phase", metrics.phase(), "name", e.getKey())
                    .register(registry);
                return holder;
              })
          .set(e.getValue());
    }
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  /** Serves {@code /metrics} on {@code port} (0 picks a free one); returns the bound port. */
  public int serve(String host, int port) throws IOException {
    // A served learner is a process of its own: its JVM's memory, threads, GC and CPU matter.
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    gc = new JvmGcMetrics();
    gc.bindTo(registry);
    http = HttpServer.create(new InetSocketAddress(host, port), 0);
    http.createContext(
        "/metrics",
        exchange -> {
          byte[] body = scrape().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    http.start();
    return http.getAddress().getPort();
  }

  @Override
  public void close() {
    if (http != null) {
      http.stop(0);
    }
    if (gc != null) {
      gc.close();
    }
    registry.close();
  }
}

package io.rolloutfarm.helm;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Prometheus series names a module's Java sources export through Micrometer. Meters are found
 * in the sources ({@code Counter.builder("x")}, {@code registry.gauge("x", …)}, …) and registered
 * again in a real {@link PrometheusMeterRegistry}, so that the names come from Micrometer's own
 * naming rules (dots to underscores, {@code _total}, {@code _seconds}, {@code _bucket}, …) rather
 * than from a copy of them.
 */
final class MeterCatalog {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  private static final Pattern BUILDER =
      Pattern.compile(
          "\\b(Counter|Timer|Gauge|DistributionSummary)\\.builder\\(\\s*\"([^\"]+)\"([^;]*);",
          Pattern.DOTALL);
  private static final Pattern SHORTHAND =
      Pattern.compile("\\.(counter|timer|gauge|summary)\\(\\s*\"([^\"]+)\"");
  private static final Pattern BASE_UNIT = Pattern.compile("\\.baseUnit\\(\\s*\"([^\"]+)\"");
  private static final Pattern STRING_LITERAL = Pattern.compile("\"([^\"\\\\]*)\"");

  private MeterCatalog() {}

  static boolean moduleExists(String module) {
    return Files.isDirectory(ROOT.resolve(module).resolve("src/main/java"));
  }

  /** Series names (e.g. {@code rollout_policy_latency_seconds_bucket}) a module exports. */
  static Set<String> seriesOf(String module) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    for (String source : sources(module)) {
      Matcher b = BUILDER.matcher(source);
      while (b.find()) {
        register(registry, b.group(1), b.group(2), b.group(3));
      }
      Matcher s = SHORTHAND.matcher(source);
      while (s.find()) {
        String type =
            switch (s.group(1)) {
              case "counter" -> "Counter";
              case "timer" -> "Timer";
              case "gauge" -> "Gauge";
              default -> "DistributionSummary";
            };
        register(registry, type, s.group(2), "");
      }
    }
    Set<String> series = new TreeSet<>();
    for (String line : registry.scrape().split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        series.add(line.split("[{ ]", 2)[0]);
      }
    }
    registry.close();
    return series;
  }

  /** Every string literal in a module's main sources (label values such as metric keys). */
  static Set<String> stringLiterals(String module) {
    Set<String> out = new TreeSet<>();
    for (String source : sources(module)) {
      Matcher m = STRING_LITERAL.matcher(source);
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  private static void register(
      PrometheusMeterRegistry registry, String type, String name, String chain) {
    Matcher unit = BASE_UNIT.matcher(chain);
    String baseUnit = unit.find() ? unit.group(1) : null;
    boolean histogram = chain.contains("publishPercentileHistogram");
    switch (type) {
      case "Counter" -> Counter.builder(name).baseUnit(baseUnit).register(registry).increment();
      case "Gauge" -> Gauge.builder(name, () -> 1).baseUnit(baseUnit).register(registry);
      case "Timer" ->
          Timer.builder(name)
              .publishPercentileHistogram(histogram)
              .register(registry)
              .record(Duration.ofMillis(5));
      default ->
          DistributionSummary.builder(name)
              .baseUnit(baseUnit)
              .publishPercentileHistogram(histogram)
              .register(registry)
              .record(2);
    }
  }

  private static Iterable<String> sources(String module) {
    Path main = ROOT.resolve(module).resolve("src/main/java");
    try (Stream<Path> files = Files.walk(main)) {
      return files
          .filter(p -> p.toString().endsWith(".java"))
          .map(
              p -> {
                try {
                  return Files.readString(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              })
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + main, e);
    }
  }
}

package io.rolloutfarm.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Grafana dashboard: shipped in a ConfigMap only when enabled, valid JSON, the panels the farm
 * promises, and every query reading a metric that a component really exports.
 */
class GrafanaDashboardTest {
  static final Path DASHBOARD = HelmTool.CHART.resolve("dashboards/rollout-farm.json");

  /** Which module exports a metric, by its prefix. */
  static final Map<String, String> EXPORTER_BY_PREFIX =
      Map.of(
          "rolloutfarm_learner_", "learner",
          "rollout_", "rollout-worker",
          "sandbox_", "sandbox-pod");

  static JsonNode dashboard;
  static List<String> expressions;

  @BeforeAll
  static void load() throws Exception {
    dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
    expressions = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        expressions.add(target.path("expr").asText());
      }
    }
  }

  @Test
  void configMapCarriesTheDashboardOnlyWhenEnabled() throws Exception {
    assertThat(StrictManifests.parse(HelmTool.template()))
        .noneMatch(
            o -> o instanceof ConfigMap c && c.getMetadata().getName().endsWith("dashboard"));

    List<HasMetadata> all = StrictManifests.parse(HelmTool.template("all-features.yaml"));
    ConfigMap cm =
        all.stream()
            .filter(ConfigMap.class::isInstance)
            .map(ConfigMap.class::cast)
            .filter(c -> c.getMetadata().getName().equals("farm-rollout-farm-dashboard"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no dashboard ConfigMap"));
    assertThat(cm.getMetadata().getNamespace()).isEqualTo("monitoring");
    assertThat(cm.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    JsonNode shipped = new ObjectMapper().readTree(cm.getData().get("rollout-farm.json"));
    assertThat(shipped).isEqualTo(dashboard);
  }

  @Test
  void hasThePanelsOfATrainingRun() {
    List<String> titles = new ArrayList<>();
    Set<Integer> ids = new TreeSet<>();
    for (JsonNode panel : dashboard.path("panels")) {
      titles.add(panel.path("title").asText());
      assertThat(ids.add(panel.path("id").asInt())).as("unique panel id").isTrue();
      assertThat(panel.path("targets")).as(panel.path("title").asText()).isNotEmpty();
      assertThat(panel.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
    }
    assertThat(titles)
        .contains(
            "Reward and accuracy",
            "Tool calls per trajectory",
            "Filter ratios",
            "Sandbox utilisation",
            "Sandbox replicas and sessions",
            "Sandbox execute latency",
            "Learner tokens/s");
    assertThat(dashboard.path("uid").asText()).isEqualTo("rollout-farm");
  }

  @Test
  void everyQueryReadsAMetricOfAKnownComponent() {
    for (String expr : allQueries()) {
      Set<String> metrics = PromQl.metrics(expr);
      assertThat(metrics).as("metrics of %s", expr).isNotEmpty();
      for (String m : metrics) {
        assertThat(exporterOf(m)).as("component exporting %s (in %s)", m, expr).isNotNull();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"learner", "rollout-worker", "sandbox-pod"})
  void everyMetricIsExportedByItsComponent(String module) {
    Map<String, String> wanted = new LinkedHashMap<>();
    for (String expr : allQueries()) {
      for (String m : PromQl.metrics(expr)) {
        if (module.equals(exporterOf(m))) {
          wanted.put(m, expr);
        }
      }
    }
    assertThat(wanted).as("the dashboard reads metrics of " + module).isNotEmpty();
    assumeTrue(
        MeterCatalog.moduleExists(module), module + " is not part of this source tree (yet)");
    Set<String> exported = MeterCatalog.seriesOf(module);
    assertThat(exported).as("meters found in " + module).isNotEmpty();
    wanted.forEach(
        (metric, expr) ->
            assertThat(exported)
                .as("%s exports %s (read by %s); it exports %s", module, metric, expr, exported)
                .contains(metric));
  }

  @Test
  void learnerStepMetricNamesAreOnesTheLearnerPublishes() {
    Set<String> literals = MeterCatalog.stringLiterals("learner");
    int checked = 0;
    for (String expr : allQueries()) {
      for (PromQl.Selector s : PromQl.selectors(expr)) {
        if (!s.metric().equals("rolloutfarm_learner_step_metric")) {
          continue;
        }
        for (PromQl.LabelMatcher m : s.matchers()) {
          if (!m.label().equals("name") && !m.label().equals("phase")) {
            continue;
          }
          for (String alternative : m.value().split("\\|")) {
            checked++;
            if (alternative.endsWith(".*")) {
              String prefix = alternative.substring(0, alternative.length() - 2);
              assertThat(literals)
                  .as("the learner builds %s=%s… (in %s)", m.label(), prefix, expr)
                  .contains(prefix);
            } else {
              assertThat(literals)
                  .as("the learner publishes %s=%s (in %s)", m.label(), alternative, expr)
                  .contains(alternative);
            }
          }
        }
      }
    }
    assertThat(checked).isGreaterThan(5);
  }

  private static List<String> allQueries() {
    List<String> all = new ArrayList<>(expressions);
    Pattern labelValues = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)");
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        Matcher m = labelValues.matcher(variable.path("query").asText());
        assertThat(m.find()).as("variable query " + variable).isTrue();
        all.add(m.group(1));
      }
    }
    return all;
  }

  private static String exporterOf(String metric) {
    return EXPORTER_BY_PREFIX.entrySet().stream()
        .filter(e -> metric.startsWith(e.getKey()))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElse(null);
  }
}

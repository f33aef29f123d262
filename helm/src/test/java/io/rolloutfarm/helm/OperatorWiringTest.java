package io.rolloutfarm.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.quarkus.runtime.configuration.DurationConverter;
import io.rolloutfarm.api.v1alpha1.ResourceYaml;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.operator.OperatorConfig;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.children.PoolDependents;
import io.rolloutfarm.operator.children.RunDependents;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The chart's values reach the pods the operator creates: the operator container's rendered
 * environment is fed to the operator's own configuration classes (as Quarkus would, environment
 * over application.properties), and the resulting settings build the learner, worker and sandbox
 * workloads.
 */
class OperatorWiringTest {
  static final String NAMESPACE = "farm-system";

  @Test
  void imagesAndPullPolicyFromValuesReachEveryPodTheOperatorCreates() throws Exception {
    OperatorSettings settings = operatorConfig(render("all-features.yaml")).toSettings();
    TrainingRun run = run();
    SandboxPool pool = pool();

    assertThat(image(new RunDependents(settings).learner(run, 1).getSpec().getTemplate()))
        .isEqualTo("registry.example.com/farm/rolloutfarm-learner:1.2.3");
    assertThat(image(new RunDependents(settings).workers(run, 1).getSpec().getTemplate()))
        .isEqualTo("registry.example.com/farm/rolloutfarm-worker:1.2.3");
    Deployment sandboxes = new PoolDependents(settings).deployment(pool, 1);
    assertThat(image(sandboxes.getSpec().getTemplate()))
        .isEqualTo("registry.example.com/farm/rolloutfarm-sandbox:1.2.3");
    assertThat(sandboxes.getSpec().getTemplate().getSpec().getContainers())
        .allSatisfy(c -> assertThat(c.getImagePullPolicy()).isEqualTo("Always"));
  }

  @Test
  void defaultImagesFollowTheChartVersion() throws Exception {
    OperatorSettings settings = operatorConfig(render("")).toSettings();
    String version = chartAppVersion();
    assertThat(settings.learnerImage())
        .isEqualTo("ghcr.io/rollout-farm/rolloutfarm-learner:" + version);
    assertThat(settings.workerImage())
        .isEqualTo("ghcr.io/rollout-farm/rolloutfarm-worker:" + version);
    assertThat(settings.sandboxImage())
        .isEqualTo("ghcr.io/rollout-farm/rolloutfarm-sandbox:" + version);
  }

  @Test
  void sandboxNetworkPolicyAdmitsTheChartsOperatorPods() throws Exception {
    Deployment operator = render("");
    OperatorSettings settings = operatorConfig(operator).toSettings();
    Map<String, String> operatorPodLabels =
        operator.getSpec().getTemplate().getMetadata().getLabels();
    NetworkPolicy policy = new PoolDependents(settings).networkPolicy(pool());
    List<Map<String, String>> admittedFromAnyNamespace =
        policy.getSpec().getIngress().stream()
            .map(NetworkPolicyIngressRule::getFrom)
            .flatMap(List::stream)
            .filter(peer -> peer.getNamespaceSelector() != null && peer.getPodSelector() != null)
            .map(peer -> peer.getPodSelector().getMatchLabels())
            .toList();
    assertThat(admittedFromAnyNamespace)
        .anySatisfy(labels -> assertThat(operatorPodLabels).containsAllEntriesOf(labels));
  }

  @Test
  void podMonitorScrapesTheMetricsPortOfEveryPodTheOperatorCreates() throws Exception {
    List<HasMetadata> objects = StrictManifests.parse(HelmTool.template("all-features.yaml"));
    PodMonitor monitor =
        objects.stream()
            .filter(PodMonitor.class::isInstance)
            .map(PodMonitor.class::cast)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no PodMonitor"));
    Map<String, String> selector = monitor.getSpec().getSelector().getMatchLabels();
    String port = monitor.getSpec().getPodMetricsEndpoints().get(0).getPort();
    OperatorSettings settings = OperatorSettings.defaults();
    List<PodTemplateSpec> created =
        List.of(
            new RunDependents(settings).learner(run(), 1).getSpec().getTemplate(),
            new RunDependents(settings).workers(run(), 1).getSpec().getTemplate(),
            new PoolDependents(settings).deployment(pool(), 1).getSpec().getTemplate());
    for (PodTemplateSpec pod : created) {
      assertThat(pod.getMetadata().getLabels()).containsAllEntriesOf(selector);
      assertThat(pod.getSpec().getContainers().get(0).getPorts())
          .anyMatch(p -> p.getName().equals(port));
    }
  }

  @Test
  void leaderElectionFollowsValues() throws Exception {
    Map<String, String> on = environment(render(""));
    assertThat(on)
        .containsEntry("ROLLOUTFARM_LEADER_ELECTION_ENABLED", "true")
        .containsEntry("ROLLOUTFARM_LEADER_ELECTION_LEASE_NAME", "rollout-farm-operator-lock")
        // The Lease lives in the operator's namespace, where the chart grants access to it.
        .containsEntry("POD_NAMESPACE", NAMESPACE);

    Path off = Files.createTempFile("no-election", ".yaml");
    Files.writeString(off, "operator:\n  leaderElection:\n    enabled: false\n");
    try {
      List<HasMetadata> objects = StrictManifests.parse(HelmTool.templateWithFiles(off));
      Deployment d =
          objects.stream()
              .filter(Deployment.class::isInstance)
              .map(Deployment.class::cast)
              .findFirst()
              .orElseThrow();
      assertThat(environment(d)).containsEntry("ROLLOUTFARM_LEADER_ELECTION_ENABLED", "false");
      assertThat(objects).noneMatch(o -> o.getMetadata().getName().endsWith("-leader-election"));
    } finally {
      Files.delete(off);
    }
  }

  @Test
  void watchedNamespacesReachTheOperatorSdk() throws Exception {
    assertThat(
            config(render("watch-namespaces.yaml"))
                .getValue("quarkus.operator-sdk.namespaces", String.class))
        .isEqualTo("team-a,team-b");
    assertThat(config(render("")).getValue("quarkus.operator-sdk.namespaces", String.class))
        .isEqualTo("JOSDK_ALL_NAMESPACES");
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static Deployment render(String values) throws Exception {
    List<HasMetadata> objects =
        StrictManifests.parse(values.isEmpty() ? HelmTool.template() : HelmTool.template(values));
    List<Deployment> deployments =
        objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).toList();
    assertThat(deployments).hasSize(1);
    return deployments.get(0);
  }

  /** The operator container's environment as the kubelet resolves it in {@link #NAMESPACE}. */
  private static Map<String, String> environment(Deployment operator) {
    Container c = operator.getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : c.getEnv()) {
      if (e.getValueFrom() != null) {
        String field = e.getValueFrom().getFieldRef().getFieldPath();
        env.put(e.getName(), field.equals("metadata.namespace") ? NAMESPACE : "operator-pod-0");
      } else {
        env.put(e.getName(), e.getValue());
      }
    }
    return env;
  }

  private static SmallRyeConfig config(Deployment operator) throws Exception {
    URL properties = OperatorConfig.class.getClassLoader().getResource("application.properties");
    assertThat(properties).as("the operator's application.properties").isNotNull();
    return new SmallRyeConfigBuilder()
        .withSources(new EnvConfigSource(environment(operator), 300))
        .withSources(new PropertiesConfigSource(properties, 250))
        .withDefaultValue("quarkus.application.version", "0.0.0-unset")
        // Quarkus reads durations such as "10m" with its own converter.
        .withConverter(Duration.class, 200, new DurationConverter())
        .withMapping(OperatorConfig.class)
        .build();
  }

  private static OperatorConfig operatorConfig(Deployment operator) throws Exception {
    return config(operator).getConfigMapping(OperatorConfig.class);
  }

  private static String image(PodTemplateSpec template) {
    return template.getSpec().getContainers().get(0).getImage();
  }

  private static String chartAppVersion() throws Exception {
    String chart = Files.readString(HelmTool.CHART.resolve("Chart.yaml"));
    Matcher m = Pattern.compile("(?m)^appVersion:\\s*\"?([^\"\\s]+)\"?").matcher(chart);
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  private static TrainingRun run() throws RunFile.InvalidRunFileException {
    TrainingRun run =
        RunFile.parse(
            "wiring-test",
            """
            apiVersion: rolloutfarm.io/v1alpha1
            kind: TrainingRun
            metadata:
              name: wiring
              namespace: team-a
            spec:
              totalSteps: 10
              dataset:
                path: /data/train.jsonl
                claimName: datasets
              learner:
                gpusPerPod: 1
              rolloutWorkers:
                replicas: 1
                concurrency: 8
              checkpoint:
                claimName: checkpoints
            """);
    run.getMetadata().setUid("00000000-0000-0000-0000-000000000001");
    return run;
  }

  private static SandboxPool pool() throws RunFile.InvalidRunFileException {
    SandboxPool pool =
        ResourceYaml.parse(
            "wiring-test",
            """
            apiVersion: rolloutfarm.io/v1alpha1
            kind: SandboxPool
            metadata:
              name: shared
              namespace: team-a
            spec:
              minReplicas: 1
              maxReplicas: 4
              sessionsPerPod: 8
            """,
            SandboxPool.class);
    pool.getMetadata().setUid("00000000-0000-0000-0000-000000000002");
    return pool;
  }
}

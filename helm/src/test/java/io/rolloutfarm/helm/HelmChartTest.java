package io.rolloutfarm.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HelmChartTest {

  /** A kind the operator reads or writes, with exactly the verbs it uses. */
  record Permission(String group, String resource, List<String> verbs) {}

  static final List<String> APPLIED = List.of("get", "create", "update", "delete");

  /**
   * What the operator does, read from its code: informers (list, watch) on the two resources and
   * the workloads it owns; get/create/update/delete through its child applier and cleanup;
   * finalizers on the primaries (update, patch); status merge patches; Events; listing pods.
   */
  static final List<Permission> OPERATOR_NEEDS =
      List.of(
          new Permission(
              "rolloutfarm.io", "trainingruns", List.of("get", "list", "watch", "update", "patch")),
          new Permission(
              "rolloutfarm.io",
              "sandboxpools",
              List.of("get", "list", "watch", "create", "update", "patch", "delete")),
          new Permission("rolloutfarm.io", "trainingruns/status", List.of("update", "patch")),
          new Permission("rolloutfarm.io", "sandboxpools/status", List.of("update", "patch")),
          new Permission(
              "apps",
              "statefulsets",
              List.of("get", "list", "watch", "create", "update", "delete")),
          new Permission(
              "apps", "deployments", List.of("get", "list", "watch", "create", "update", "delete")),
          new Permission("", "services", APPLIED),
          new Permission("", "configmaps", APPLIED),
          new Permission("policy", "poddisruptionbudgets", APPLIED),
          new Permission("networking.k8s.io", "networkpolicies", APPLIED),
          new Permission("", "pods", List.of("list")),
          new Permission("", "events", List.of("create")));

  /** Fabric8's leader elector: read the Lease, create it once, renew it. */
  static final List<Permission> LEADER_ELECTION_NEEDS =
      List.of(new Permission("coordination.k8s.io", "leases", List.of("get", "create", "update")));

  @ParameterizedTest
  @ValueSource(strings = {"", "all-features.yaml", "watch-namespaces.yaml"})
  void lintStrictPasses(String values) throws Exception {
    List<String> args = new ArrayList<>(List.of("lint", "--strict", HelmTool.CHART.toString()));
    if (!values.isEmpty()) {
      args.add("--values");
      args.add(Path.of("src/test/resources", values).toAbsolutePath().toString());
    }
    HelmTool.Result r = HelmTool.helm(args.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("0 chart(s) failed");
  }

  @Test
  void lintRejectsValuesThatBreakTheSchema() throws Exception {
    Path bad = Files.createTempFile("bad-values", ".yaml");
    Files.writeString(bad, "operator:\n  replicas: -1\n  logLevel: LOUD\n");
    HelmTool.Result r =
        HelmTool.helm("lint", "--strict", HelmTool.CHART.toString(), "--values", bad.toString());
    Files.delete(bad);
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.output()).contains("replicas").contains("logLevel");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "all-features.yaml", "watch-namespaces.yaml"})
  void everyRenderedObjectParsesStrictlyAndEveryContainerIsBounded(String values) throws Exception {
    List<HasMetadata> objects = render(values);
    List<String> unbounded = new ArrayList<>();
    for (HasMetadata o : objects) {
      podSpec(o)
          .ifPresent(
              spec -> {
                for (Container c :
                    Stream.concat(spec.getContainers().stream(), spec.getInitContainers().stream())
                        .toList()) {
                  String where = o.getKind() + "/" + o.getMetadata().getName() + ":" + c.getName();
                  if (c.getResources() == null
                      || c.getResources().getLimits() == null
                      || c.getResources().getLimits().isEmpty()
                      || c.getResources().getRequests() == null
                      || c.getResources().getRequests().isEmpty()) {
                    unbounded.add(where + " has no resource requests and limits");
                  }
                  if (c.getSecurityContext() == null
                      || !Boolean.FALSE.equals(c.getSecurityContext().getAllowPrivilegeEscalation())
                      || c.getSecurityContext().getCapabilities() == null
                      || !c.getSecurityContext().getCapabilities().getDrop().contains("ALL")) {
                    unbounded.add(where + " has no restrictive security context");
                  }
                }
              });
    }
    assertThat(unbounded).isEmpty();
    assertThat(objects).anyMatch(o -> o instanceof Deployment);
  }

  @Test
  void clusterRoleGrantsExactlyWhatTheOperatorUses() throws Exception {
    List<HasMetadata> objects = render("");
    ClusterRole role = single(objects, ClusterRole.class);
    assertThat(grants(role.getRules())).isEqualTo(grants(OPERATOR_NEEDS));
    assertThat(objects)
        .noneMatch(
            o -> o instanceof Role r && !r.getMetadata().getName().endsWith("-leader-election"));
    Role leader = single(objects, Role.class);
    assertThat(leader.getMetadata().getNamespace()).isEqualTo("farm-system");
    assertThat(grants(leader.getRules())).isEqualTo(grants(LEADER_ELECTION_NEEDS));
  }

  @Test
  void operatorNeedsNameEveryKindTheOperatorCodeTouches() throws Exception {
    Set<String> needed =
        OPERATOR_NEEDS.stream()
            .map(p -> p.group() + "/" + p.resource())
            .collect(Collectors.toCollection(TreeSet::new));
    Set<String> used = OperatorSources.resourceKindsUsed();
    assertThat(used)
        .as("Kubernetes kinds the operator's code refers to")
        .contains("rolloutfarm.io/trainingruns", "apps/statefulsets", "/pods");
    assertThat(needed).containsAll(used);
  }

  @Test
  void namespacedModeGrantsTheSameRulesOnlyInTheWatchedNamespaces() throws Exception {
    List<HasMetadata> objects = render("watch-namespaces.yaml");
    assertThat(objects).noneMatch(ClusterRole.class::isInstance);
    List<Role> roles =
        objects.stream()
            .filter(Role.class::isInstance)
            .map(Role.class::cast)
            .filter(r -> !r.getMetadata().getName().endsWith("-leader-election"))
            .toList();
    assertThat(roles)
        .extracting(r -> r.getMetadata().getNamespace())
        .containsExactlyInAnyOrder("team-a", "team-b");
    roles.forEach(r -> assertThat(grants(r.getRules())).isEqualTo(grants(OPERATOR_NEEDS)));
    Deployment operator = single(objects, Deployment.class);
    assertThat(env(operator, "QUARKUS_OPERATOR_SDK_NAMESPACES")).isEqualTo("team-a,team-b");
  }

  @Test
  void nvidiaComponentsAppearOnlyWhenEnabled() throws Exception {
    List<HasMetadata> defaults = render("");
    assertThat(defaults).noneMatch(DaemonSet.class::isInstance);
    assertThat(defaults).noneMatch(o -> o.getKind().equals("RuntimeClass"));
    assertThat(defaults).noneMatch(o -> o.getKind().equals("ServiceMonitor"));
    assertThat(defaults).noneMatch(o -> o.getKind().equals("PodMonitor"));
    assertThat(defaults).noneMatch(o -> o.getKind().equals("Namespace"));

    List<HasMetadata> all = render("all-features.yaml");
    DaemonSet plugin = single(all, DaemonSet.class);
    PodSpec spec = plugin.getSpec().getTemplate().getSpec();
    assertThat(plugin.getMetadata().getNamespace()).isEqualTo("nvidia-device-plugin");
    assertThat(all)
        .anyMatch(
            o ->
                o.getKind().equals("Namespace")
                    && o.getMetadata().getName().equals("nvidia-device-plugin"));
    assertThat(spec.getPriorityClassName()).isEqualTo("system-node-critical");
    assertThat(spec.getTolerations()).anyMatch(t -> t.getKey().equals("nvidia.com/gpu"));
    assertThat(spec.getVolumes())
        .anyMatch(
            v ->
                v.getHostPath() != null
                    && v.getHostPath().getPath().equals("/var/lib/kubelet/device-plugins"));
    assertThat(
            spec.getAffinity()
                .getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms())
        .isNotEmpty();
    assertThat(all)
        .anyMatch(
            o -> o.getKind().equals("RuntimeClass") && o.getMetadata().getName().equals("nvidia"));
  }

  @Test
  void operatorGetsImagesProbesAndLeaderElectionFromValues() throws Exception {
    Deployment d = single(render("all-features.yaml"), Deployment.class);
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("registry.example.com/farm/rolloutfarm-operator:1.2.3");
    assertThat(env(d, "ROLLOUTFARM_OPERATOR_IMAGES_LEARNER"))
        .isEqualTo("registry.example.com/farm/rolloutfarm-learner:1.2.3");
    assertThat(env(d, "ROLLOUTFARM_OPERATOR_IMAGES_WORKER"))
        .isEqualTo("registry.example.com/farm/rolloutfarm-worker:1.2.3");
    assertThat(env(d, "ROLLOUTFARM_OPERATOR_IMAGES_SANDBOX"))
        .isEqualTo("registry.example.com/farm/rolloutfarm-sandbox:1.2.3");
    assertThat(env(d, "ROLLOUTFARM_LEADER_ELECTION_ENABLED")).isEqualTo("true");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
    assertThat(c.getPorts()).anyMatch(p -> p.getName().equals("http"));
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
  }

  @Test
  void chartCrdsAreIdenticalToTheGeneratedOnes() throws Exception {
    Path generated = Path.of("..", "crds").toAbsolutePath().normalize();
    List<Path> files;
    try (Stream<Path> s = Files.list(generated)) {
      files =
          s.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))
              .sorted()
              .toList();
    }
    assertThat(files).as("generated CRDs in " + generated).isNotEmpty();
    Map<String, CustomResourceDefinition> rendered =
        render("").stream()
            .filter(CustomResourceDefinition.class::isInstance)
            .map(CustomResourceDefinition.class::cast)
            .collect(Collectors.toMap(c -> c.getMetadata().getName(), c -> c));
    for (Path f : files) {
      CustomResourceDefinition expected =
          Serialization.unmarshal(Files.readString(f), CustomResourceDefinition.class);
      assertThat(rendered.get(expected.getMetadata().getName()))
          .as(f.toString())
          .isEqualTo(expected);
    }
    assertThat(rendered).hasSize(files.size());
  }

  private static List<HasMetadata> render(String values) throws IOException, InterruptedException {
    return StrictManifests.parse(
        values.isEmpty() ? HelmTool.template() : HelmTool.template(values));
  }

  private static <T> T single(List<HasMetadata> objects, Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as(type.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static String env(Deployment d, String name) {
    return d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name))
        .getValue();
  }

  private static Optional<PodSpec> podSpec(HasMetadata o) {
    if (o instanceof Deployment d) {
      return Optional.of(d.getSpec().getTemplate().getSpec());
    }
    if (o instanceof DaemonSet d) {
      return Optional.of(d.getSpec().getTemplate().getSpec());
    }
    return Optional.empty();
  }

  /** Every (group, resource, verb) a set of rules grants; wildcards are not expanded. */
  private static Set<String> grants(List<PolicyRule> rules) {
    Set<String> out = new TreeSet<>();
    for (PolicyRule r : rules) {
      assertThat(r.getResourceNames()).as("rules name no single objects").isNullOrEmpty();
      for (String g : r.getApiGroups()) {
        for (String res : r.getResources()) {
          for (String v : r.getVerbs()) {
            out.add(g + "/" + res + ":" + v);
          }
        }
      }
    }
    return out;
  }

  private static Set<String> grants(Collection<Permission> needs) {
    Set<String> out = new TreeSet<>();
    for (Permission p : needs) {
      p.verbs().forEach(v -> out.add(p.group() + "/" + p.resource() + ":" + v));
    }
    return out;
  }
}

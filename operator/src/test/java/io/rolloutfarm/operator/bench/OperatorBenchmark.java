package io.rolloutfarm.operator.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.children.PoolDependents;
import io.rolloutfarm.operator.children.RunDependents;
import io.rolloutfarm.operator.pool.PoolReconciliation;
import io.rolloutfarm.operator.run.RunReconciliation;
import io.rolloutfarm.operator.testing.Fixtures;
import io.rolloutfarm.operator.testing.TestingClock;
import io.rolloutfarm.operator.testing.TestingCluster;
import io.rolloutfarm.operator.testing.TestingEventRecorder;
import io.rolloutfarm.operator.testing.TestingLearnerStatusClient;
import io.rolloutfarm.operator.testing.TestingStatusWriter;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The operator against the Fabric8 mock API server: time from {@code apply} to every child created,
 * and reconcile throughput with 100 TrainingRuns. Baselines measured in the same run: the same
 * objects created directly with the client (the API cost alone), and plain {@code reconcile()}
 * passes against the in-memory fake cluster (the operator's own cost alone).
 *
 * <p>Run by {@code ./farm bench operator [--json FILE]}; it writes the table to {@code
 * operator/target/bench/operator.txt} (and JSON to {@code -Dbench.json=FILE}).
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@Tag("bench")
class OperatorBenchmark {
  private static final int SINGLE_RUNS = Integer.getInteger("bench.single", 10);
  private static final int WARMUP = 5;
  private static final int BURST = Integer.getInteger("bench.burst", 100);
  private static final long STEADY_SECONDS = Long.getLong("bench.steady-seconds", 5);

  /** Objects per run with its own pool: 5 from the run controller, 4 from the pool controller. */
  private static final int CHILDREN = 9;

  private static final List<Class<? extends HasMetadata>> KINDS =
      List.of(
          ConfigMap.class,
          StatefulSet.class,
          Service.class,
          Deployment.class,
          SandboxPool.class,
          PodDisruptionBudget.class,
          NetworkPolicy.class);

  @Inject KubernetesClient client;
  @Inject RunReconciliation runs;
  @Inject PoolReconciliation pools;
  @Inject Operator operator;

  @Test
  void benchmark() throws Exception {
    installCrds();
    Map<String, Object> json = new LinkedHashMap<>();
    List<String[]> rows = new ArrayList<>();

    // 1. apply → all children, one run at a time, against a direct-create baseline.
    List<Double> operatorMs = new ArrayList<>();
    List<Double> directMs = new ArrayList<>();
    for (int i = 0; i < WARMUP + SINGLE_RUNS; i++) {
      String ns = "bench-single-" + i;
      long t0 = System.nanoTime();
      client.resource(newRun("run", ns)).create();
      waitForLastChildren(ns);
      if (i >= WARMUP) { // the first ones warm up the JIT and the informers
        operatorMs.add((System.nanoTime() - t0) / 1e6);
      }
    }
    // The baseline runs with the operator stopped, so that nothing else creates the objects.
    operator.stop();
    for (int i = 0; i < WARMUP + SINGLE_RUNS; i++) {
      double direct = createDirectly("bench-direct-" + i);
      if (i >= WARMUP) {
        directMs.add(direct);
      }
    }
    operator.start();
    double opMedian = median(operatorMs);
    double directMedian = median(directMs);
    rows.add(
        row(
            "apply -> 9 children (operator, informers)",
            fmt(opMedian) + " ms",
            ratio(opMedian, directMedian)));
    rows.add(
        row(
            "baseline: the 9 objects created by the client directly",
            fmt(directMedian) + " ms",
            "1.00x"));
    json.put("apply_to_children_ms_median", opMedian);
    json.put("direct_create_ms_median", directMedian);

    // 2. 100 runs applied at once: time until every child exists and every status is written.
    String burstNs = "bench-burst";
    long passes0 = runs.passes();
    long t0 = System.nanoTime();
    for (int i = 0; i < BURST; i++) {
      client.resource(newRun(String.format("r%03d", i), burstNs)).create();
    }
    waitForChildren(burstNs, BURST * CHILDREN);
    waitForStatuses(burstNs, BURST);
    double burstS = (System.nanoTime() - t0) / 1e9;
    long burstPasses = runs.passes() - passes0;
    rows.add(
        row(
            BURST + " runs applied at once -> all children + status",
            fmt(burstS) + " s",
            fmt(BURST / burstS) + " runs/s, " + fmt(burstPasses / burstS) + " reconciles/s"));
    json.put("burst_runs", BURST);
    json.put("burst_seconds", burstS);
    json.put("burst_runs_per_second", BURST / burstS);

    // 3. Steady state with 100 runs: every run re-reconciled each poll interval, nothing written.
    // Pool statuses reach the runs one pass later; wait until two snapshots agree.
    Map<String, String> before = versions(burstNs);
    for (int i = 0; i < 15; i++) {
      Thread.sleep(2000);
      Map<String, String> again = versions(burstNs);
      if (again.equals(before)) {
        break;
      }
      before = again;
    }
    long runPasses0 = runs.passes();
    long poolPasses0 = pools.passes();
    Thread.sleep(STEADY_SECONDS * 1000);
    double runRate = (runs.passes() - runPasses0) / (double) STEADY_SECONDS;
    double poolRate = (pools.passes() - poolPasses0) / (double) STEADY_SECONDS;
    Map<String, String> after = versions(burstNs);
    Map<String, String> settled = before;
    List<String> written =
        settled.keySet().stream().filter(k -> !settled.get(k).equals(after.get(k))).toList();
    long changed = written.size();
    rows.add(
        row(
            "steady state, " + BURST + " runs (1 s status poll)",
            fmt(runRate) + " run + " + fmt(poolRate) + " pool reconciles/s",
            changed + " of " + settled.size() + " objects written"));
    json.put("steady_run_reconciles_per_second", runRate);
    json.put("steady_pool_reconciles_per_second", poolRate);
    json.put("steady_objects_written", changed);
    assertThat(written).as("objects written in steady state").isEmpty();

    // 4. Baseline: the same reconciliation with no API server at all.
    double inMemory = inMemoryReconcilesPerSecond();
    rows.add(
        row(
            "baseline: plain reconcile() on the in-memory fake, " + BURST + " runs",
            fmt(inMemory) + " reconciles/s",
            ratio(runRate, inMemory) + " of it at steady state"));
    json.put("in_memory_reconciles_per_second", inMemory);

    String table =
        render(
            "operator against the Fabric8 mock API server (medians of "
                + SINGLE_RUNS
                + " single applies; "
                + Runtime.getRuntime().availableProcessors()
                + " CPUs)",
            new String[] {"measure", "value", "ratio / rate"},
            rows);
    System.out.println(table);
    Path out = Path.of("target", "bench", "operator.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(out, table);
    String jsonFile = System.getProperty("bench.json", "");
    if (!jsonFile.isBlank()) {
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(Path.of(jsonFile).toFile(), json);
    }
  }

  private void installCrds() throws IOException {
    try (Stream<Path> files = Files.list(Path.of("..", "crds"))) {
      for (Path file : files.sorted().toList()) {
        CustomResourceDefinition crd =
            client.apiextensions().v1().customResourceDefinitions().load(file.toFile()).item();
        client.resource(crd).create();
      }
    }
  }

  private static TrainingRun newRun(String name, String namespace) {
    TrainingRun run = Fixtures.run(name, namespace);
    run.getMetadata().setUid(null);
    run.getMetadata().setGeneration(null);
    return run;
  }

  /** Creates a run's nine objects with the client, as the operator would, and times it. */
  private double createDirectly(String ns) {
    TrainingRun run = Fixtures.run("run", ns); // never sent: only the children are created
    long t0 = System.nanoTime();
    // The operator's own pass reads each object before creating it; so does this baseline.
    RunDependents runChildren = new RunDependents(OperatorSettings.defaults());
    List<HasMetadata> objects = new ArrayList<>();
    objects.add(runChildren.configMap(run));
    objects.add(runChildren.learnerService(run));
    objects.add(runChildren.learner(run, 1));
    SandboxPool pool = runChildren.inlinePool(run, null);
    objects.add(runChildren.workers(run, 2));
    for (HasMetadata o : objects) {
      createIfAbsent(o);
    }
    SandboxPool created = (SandboxPool) createIfAbsent(pool);
    PoolDependents poolChildren = new PoolDependents(OperatorSettings.defaults());
    for (HasMetadata o :
        List.of(
            poolChildren.deployment(created, 1),
            poolChildren.service(created),
            poolChildren.disruptionBudget(created),
            poolChildren.networkPolicy(created))) {
      createIfAbsent(o);
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  private HasMetadata createIfAbsent(HasMetadata o) {
    HasMetadata live =
        client
            .resources(o.getClass())
            .inNamespace(o.getMetadata().getNamespace())
            .withName(o.getMetadata().getName())
            .get();
    return live != null ? live : client.resource(o).create();
  }

  /**
   * Each controller creates its children one after the other, so the last of each (the workers'
   * Deployment, the pool's NetworkPolicy) existing means all nine do. Two GETs per poll keep the
   * measurement from loading the API server it measures.
   */
  private void waitForLastChildren(String ns) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (client.resources(Deployment.class).inNamespace(ns).withName("run-workers").get() == null
        || client.resources(NetworkPolicy.class).inNamespace(ns).withName("run-sandbox").get()
            == null) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(ns + ": children missing after 60 s");
      }
      Thread.sleep(2);
    }
    assertThat(count(ns)).as(ns + " children").isEqualTo(CHILDREN);
  }

  private void waitForChildren(String ns, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + 300_000_000_000L;
    while (count(ns) < expected) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(ns + ": " + count(ns) + " of " + expected + " children");
      }
      Thread.sleep(100);
    }
  }

  private void waitForStatuses(String ns, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + 300_000_000_000L;
    while (client.resources(TrainingRun.class).inNamespace(ns).list().getItems().stream()
            .filter(r -> r.getStatus() != null && r.getStatus().observedGeneration != null)
            .count()
        < expected) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(ns + ": statuses missing");
      }
      Thread.sleep(20);
    }
  }

  private int count(String ns) {
    int n = 0;
    for (var kind : KINDS) {
      n += client.resources(kind).inNamespace(ns).list().getItems().size();
    }
    return n;
  }

  private Map<String, String> versions(String ns) {
    Map<String, String> out = new TreeMap<>();
    for (var kind : Stream.concat(Stream.of(TrainingRun.class), KINDS.stream()).toList()) {
      for (HasMetadata o : client.resources(kind).inNamespace(ns).list().getItems()) {
        out.put(
            kind.getSimpleName() + "/" + o.getMetadata().getName(),
            o.getMetadata().getResourceVersion());
      }
    }
    return out;
  }

  /** Steady-state passes over {@link #BURST} runs with in-memory fakes, per second. */
  private static double inMemoryReconcilesPerSecond() {
    TestingCluster cluster = new TestingCluster();
    OperatorSettings settings = OperatorSettings.defaults();
    RunReconciliation reconciliation =
        new RunReconciliation(
            cluster,
            new RunDependents(settings),
            new TestingLearnerStatusClient(),
            new TestingEventRecorder(),
            new TestingStatusWriter(),
            settings,
            new TestingClock());
    List<TrainingRun> all = new ArrayList<>();
    for (int i = 0; i < BURST; i++) {
      TrainingRun run = Fixtures.run(String.format("r%03d", i), "mem");
      reconciliation.reconcile(run);
      reconciliation.reconcile(run);
      all.add(run);
    }
    // Warm the JIT up as the running operator is by then (thousands of passes).
    for (int round = 0; round < 30; round++) {
      for (TrainingRun run : all) {
        reconciliation.reconcile(run);
      }
    }
    List<Double> rates = new ArrayList<>();
    for (int round = 0; round < 5; round++) {
      long t0 = System.nanoTime();
      for (TrainingRun run : all) {
        reconciliation.reconcile(run);
      }
      rates.add(all.size() / ((System.nanoTime() - t0) / 1e9));
    }
    return median(rates);
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String[] row(String... cells) {
    return cells;
  }

  private static String fmt(double v) {
    return v >= 100 ? String.format("%.0f", v) : String.format("%.2f", v);
  }

  private static String ratio(double value, double baseline) {
    return String.format("%.2fx", value / baseline);
  }

  private static String render(String title, String[] headers, List<String[]> rows) {
    int[] widths = new int[headers.length];
    for (int i = 0; i < headers.length; i++) {
      widths[i] = headers[i].length();
      for (String[] r : rows) {
        widths[i] = Math.max(widths[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder(title).append('\n');
    appendRow(sb, headers, widths);
    for (int i = 0; i < widths.length; i++) {
      sb.append(i == 0 ? "" : "-+-").append("-".repeat(widths[i]));
    }
    sb.append('\n');
    for (String[] r : rows) {
      appendRow(sb, r, widths);
    }
    return sb.toString();
  }

  private static void appendRow(StringBuilder sb, String[] cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      line.append(i == 0 ? "" : " | ")
          .append(cells[i])
          .append(" ".repeat(widths[i] - cells[i].length()));
    }
    sb.append(line.toString().stripTrailing()).append('\n');
  }
}

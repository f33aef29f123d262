package io.rolloutfarm.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The CRDs in {@code crds/} are generated from this model by the build (crd-generator-maven-plugin
 * into {@code target/crds}). This test fails the build when the committed copies are stale; {@code
 * ./mvnw -pl operator-api test -Dcrds.update=true} refreshes them.
 */
class CrdsAreUpToDateTest {

  @Test
  void committedCrdsMatchTheModel() throws IOException {
    Path generated = Path.of(System.getProperty("crds.generated", "target/crds"));
    Path committed = Path.of(System.getProperty("crds.committed", "../crds"));
    List<Path> files = yamlFiles(generated);
    assertThat(files)
        .as("generated CRDs in %s", generated)
        .extracting(p -> p.getFileName().toString())
        .containsExactlyInAnyOrder(
            "trainingruns.rolloutfarm.io-v1.yml", "sandboxpools.rolloutfarm.io-v1.yml");

    if (Boolean.getBoolean("crds.update")) {
      Files.createDirectories(committed);
      for (Path f : files) {
        Files.copy(f, committed.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    for (Path f : files) {
      Path c = committed.resolve(f.getFileName());
      assertThat(c)
          .as(
              "%s is stale or missing: the CRD model changed. Regenerate with"
                  + " ./mvnw -pl operator-api test -Dcrds.update=true (never edit crds/ by hand)",
              c)
          .exists();
      assertThat(Files.readString(c))
          .as(
              "%s is stale: regenerate with ./mvnw -pl operator-api test -Dcrds.update=true"
                  + " (never edit crds/ by hand)",
              c)
          .isEqualTo(Files.readString(f));
    }
  }

  @Test
  void crdsCarryTheScaleSubresourcePrinterColumnsAndCelRules() throws IOException {
    Path generated = Path.of(System.getProperty("crds.generated", "target/crds"));
    String pools = Files.readString(generated.resolve("sandboxpools.rolloutfarm.io-v1.yml"));
    assertThat(pools)
        .contains("specReplicasPath: \".spec.replicas\"")
        .contains("statusReplicasPath: \".status.replicas\"")
        .contains("labelSelectorPath: \".status.selector\"")
        .contains("rule: \"self.minReplicas <= self.maxReplicas\"");
    String runs = Files.readString(generated.resolve("trainingruns.rolloutfarm.io-v1.yml"));
    assertThat(runs)
        .contains("- \"tr\"")
        .contains("jsonPath: \".status.conditions[?(@.type==\\\"Ready\\\")].status\"")
        .contains("name: \"Step\"", "name: \"Reward\"", "name: \"Sandboxes\"", "name: \"Age\"")
        .contains("rule: \"self.trainBatchSize <= self.oversampleBatchSize\"")
        // Fields read by CEL rules carry schema defaults, so rules see them when left out.
        .contains("default: 32");
    // Every CEL rule in the CRDs has its Java twin in SpecValidator.
    for (String crd : List.of(pools, runs)) {
      crd.lines()
          .map(String::strip)
          .filter(l -> l.startsWith("rule: "))
          .map(l -> l.substring("rule: \"".length(), l.length() - 1).replace("\\\"", "\""))
          .forEach(rule -> assertThat(SpecValidator.mirroredCelRules()).contains(rule));
    }
  }

  private static List<Path> yamlFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
    }
  }
}

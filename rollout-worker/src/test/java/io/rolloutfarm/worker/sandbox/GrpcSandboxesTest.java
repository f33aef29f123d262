package io.rolloutfarm.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GrpcSandboxesTest {
  @Test
  void targetListsAreCheckedWithTheOffendingEntryNamed() {
    assertThat(GrpcSandboxes.parseTargets("a:1, b:2,dns:///sandbox-headless:50051"))
        .containsExactly("a:1", "b:2", "dns:///sandbox-headless:50051");
    assertThatThrownBy(() -> GrpcSandboxes.parseTargets("a:1,nohost"))
        .hasMessageContaining("sandbox target 'nohost': expected HOST:PORT");
    assertThatThrownBy(() -> GrpcSandboxes.parseTargets("a:99999"))
        .hasMessageContaining("port must be a number in 1..65535");
    assertThatThrownBy(() -> GrpcSandboxes.parseTargets(" , ")).hasMessageContaining("is empty");
  }

  @Test
  void dnsTargetsResolveToOneEndpointPerAddressSoSessionsStayOnTheirServer() {
    try (GrpcSandboxes s =
        GrpcSandboxes.connect(
            "dns:///localhost:50051,10.0.0.7:9", GrpcSandboxes.Deadlines.defaults(), 0)) {
      assertThat(s.endpoints()).contains("127.0.0.1:50051", "10.0.0.7:9");
      assertThat(s.endpoints()).noneMatch(e -> e.startsWith("dns:"));
    }
  }
}

package io.rolloutfarm.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/**
 * {@code rolloutfarm.leader-election.*}: with several operator replicas, only the holder of a
 * coordination.k8s.io Lease reconciles; the others wait to take over. Environment variables such as
 * {@code ROLLOUTFARM_LEADER_ELECTION_ENABLED} set it (the Helm chart does).
 */
@ConfigMapping(prefix = "rolloutfarm.leader-election")
public interface LeaderElectionConfig {
  @WithDefault("false")
  boolean enabled();

  @WithDefault("rolloutfarm-operator-lock")
  String leaseName();

  /** Namespace of the Lease; absent means the namespace the operator runs in. */
  Optional<String> leaseNamespace();

  /** The Java Operator SDK's configuration, or empty when election is off. */
  default Optional<LeaderElectionConfiguration> toOperatorSdk() {
    if (!enabled()) {
      return Optional.empty();
    }
    LeaderElectionConfigurationBuilder builder =
        LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(leaseName());
    leaseNamespace().filter(ns -> !ns.isBlank()).ifPresent(builder::withLeaseNamespace);
    return Optional.of(builder.build());
  }
}

package io.rolloutfarm.operator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * {@code rolloutfarm.operator.*} in application.properties; every key can be overridden by an
 * environment variable, e.g. {@code ROLLOUTFARM_OPERATOR_IMAGES_LEARNER}.
 */
@ConfigMapping(prefix = "rolloutfarm.operator")
public interface OperatorConfig {
  Images images();

  @WithDefault("IfNotPresent")
  String imagePullPolicy();

  @WithDefault("10s")
  Duration statusPollInterval();

  @WithDefault("10m")
  Duration gpuScheduleTimeout();

  @WithDefault("5")
  int crashLoopRestarts();

  @WithDefault("app.kubernetes.io/name=rolloutfarm-operator")
  String operatorPodLabel();

  LeaderElection leaderElection();

  /** Default images of the components. */
  interface Images {
    String learner();

    String worker();

    String sandbox();
  }

  /** One active operator among several replicas. */
  interface LeaderElection {
    @WithDefault("false")
    boolean enabled();

    @WithDefault("rolloutfarm-operator-lock")
    String leaseName();
  }

  default OperatorSettings toSettings() {
    if (!operatorPodLabel().contains("=")) {
      throw new IllegalArgumentException(
          "rolloutfarm.operator.operator-pod-label must be key=value, got " + operatorPodLabel());
    }
    return new OperatorSettings(
        images().learner(),
        images().worker(),
        images().sandbox(),
        imagePullPolicy(),
        statusPollInterval(),
        gpuScheduleTimeout(),
        crashLoopRestarts(),
        operatorPodLabel());
  }
}

package io.rolloutfarm.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The wiring decisions made from configuration, without booting Quarkus. */
class OperatorBeansTest {

  private static OperatorConfig config(boolean leaderElection, String podLabel) {
    return new OperatorConfig() {
      @Override
      public Images images() {
        return new Images() {
          @Override
          public String learner() {
            return "reg/learner:1";
          }

          @Override
          public String worker() {
            return "reg/worker:1";
          }

          @Override
          public String sandbox() {
            return "reg/sandbox:1";
          }
        };
      }

      @Override
      public String imagePullPolicy() {
        return "Always";
      }

      @Override
      public Duration statusPollInterval() {
        return Duration.ofSeconds(10);
      }

      @Override
      public Duration gpuScheduleTimeout() {
        return Duration.ofMinutes(10);
      }

      @Override
      public int crashLoopRestarts() {
        return 5;
      }

      @Override
      public String operatorPodLabel() {
        return podLabel;
      }

      @Override
      public LeaderElection leaderElection() {
        return new LeaderElection() {
          @Override
          public boolean enabled() {
            return leaderElection;
          }

          @Override
          public String leaseName() {
            return "farm-lock";
          }
        };
      }
    };
  }

  @Test
  void leaderElectionUsesTheConfiguredLeaseOnlyWhenEnabled() {
    OperatorBeans beans = new OperatorBeans();
    assertThat(beans.leaderElection(config(false, "a=b"))).isNull();
    var election = beans.leaderElection(config(true, "a=b"));
    assertThat(election).isNotNull();
    assertThat(election.getLeaseName()).isEqualTo("farm-lock");
  }

  @Test
  void settingsCarryTheImagesAndRejectAMalformedPodLabel() {
    OperatorSettings settings = config(false, "app=op").toSettings();
    assertThat(settings.learnerImage()).isEqualTo("reg/learner:1");
    assertThat(settings.sandboxImage()).isEqualTo("reg/sandbox:1");
    assertThat(settings.imagePullPolicy()).isEqualTo("Always");
    assertThat(settings.operatorPodLabelKey()).isEqualTo("app");
    assertThat(settings.operatorPodLabelValue()).isEqualTo("op");
    assertThatThrownBy(() -> config(false, "no-equals").toSettings())
        .hasMessageContaining("rolloutfarm.operator.operator-pod-label");
  }
}

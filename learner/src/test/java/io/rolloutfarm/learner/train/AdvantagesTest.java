package io.rolloutfarm.learner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdvantagesTest {

  @Test
  void groupMeanIsSubtractedWithoutStdDivisionByDefault() {
    double[] a = Advantages.compute(List.of(1.0, 0.0, 0.0, 1.0, 1.2), false);
    // mean = 0.64
    assertThat(a).containsExactly(new double[] {0.36, -0.64, -0.64, 0.36, 0.56}, within(1e-12));
    assertThat(sum(a)).isCloseTo(0, within(1e-12));
  }

  @Test
  void stdNormalisationDividesByThePopulationStd() {
    double[] a = Advantages.compute(List.of(1.0, 0.0), true);
    // mean 0.5, population std 0.5
    assertThat(a[0]).isCloseTo(0.5 / (0.5 + Advantages.EPSILON), within(1e-12));
    assertThat(a[1]).isCloseTo(-0.5 / (0.5 + Advantages.EPSILON), within(1e-12));
  }

  @Test
  void constantGroupsGetZeroAdvantageEitherWay() {
    assertThat(Advantages.compute(List.of(0.7, 0.7, 0.7), true)).containsOnly(0.0);
    assertThat(Advantages.compute(List.of(0.7, 0.7, 0.7), false)).containsOnly(0.0);
    assertThat(Advantages.compute(List.of(), false)).isEmpty();
  }

  @Test
  void learningRateScheduleWarmsUpThenDecays() {
    LearningRateSchedule constant =
        new LearningRateSchedule(1e-3, AlgorithmSpec.LrSchedule.Constant, 2, 10);
    assertThat(constant.at(0)).isCloseTo(0.5e-3, within(1e-15));
    assertThat(constant.at(1)).isCloseTo(1e-3, within(1e-15));
    assertThat(constant.at(9)).isCloseTo(1e-3, within(1e-15));

    LearningRateSchedule linear =
        new LearningRateSchedule(1.0, AlgorithmSpec.LrSchedule.Linear, 0, 4);
    assertThat(List.of(linear.at(0), linear.at(1), linear.at(2), linear.at(3)))
        .containsExactly(1.0, 0.75, 0.5, 0.25);

    LearningRateSchedule cosine =
        new LearningRateSchedule(1.0, AlgorithmSpec.LrSchedule.Cosine, 0, 4);
    assertThat(cosine.at(0)).isEqualTo(1.0);
    assertThat(cosine.at(2)).isCloseTo(0.5, within(1e-12));
    // Every update of the run gets a positive rate (the engine rejects 0).
    assertThat(cosine.at(3)).isPositive();
  }

  private static double sum(double[] a) {
    double s = 0;
    for (double v : a) {
      s += v;
    }
    return s;
  }
}

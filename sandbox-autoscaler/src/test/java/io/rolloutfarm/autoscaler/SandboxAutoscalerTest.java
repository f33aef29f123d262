package io.rolloutfarm.autoscaler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Synthetic load traces through collect → evaluate → realize. */
class SandboxAutoscalerTest {
  private static final Duration INTERVAL = Duration.ofSeconds(15);
  private static final Duration WINDOW = Duration.ofMinutes(5);
  private static final int WINDOW_INTERVALS = (int) (WINDOW.toSeconds() / INTERVAL.toSeconds());
  // 16 slots per pod at 70 %: 11.2 sessions per pod.
  private static final AutoscalerSettings SETTINGS =
      AutoscalerSettings.of(1, 40, 16, 0.7).withScaleDownWindow(WINDOW);

  private final TestingClock clock = new TestingClock();
  private final List<ScalingDecision> events = new ArrayList<>();

  private SandboxAutoscaler autoscaler(SimulatedPool pool) {
    return new SandboxAutoscaler(
        pool, new ScalingEvaluator(clock), pool, (decision, applied) -> events.add(decision));
  }

  /** Runs one interval and returns the replicas after it. */
  private int step(SandboxAutoscaler autoscaler, SimulatedPool pool, AutoscalerSettings s)
      throws Exception {
    clock.advance(INTERVAL);
    pool.tick();
    autoscaler.run("ns/pool", s);
    return pool.replicas();
  }

  private static int needed(int demand) {
    return (int) Math.ceil(demand / 11.2);
  }

  @Test
  void stepUpConvergesFastWithoutOvershoot() throws Exception {
    SimulatedPool pool = new SimulatedPool(1, 16, 1, i -> false);
    SandboxAutoscaler autoscaler = autoscaler(pool);
    pool.setDemand(200); // needs 18 pods
    List<Integer> trace = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      trace.add(step(autoscaler, pool, SETTINGS));
    }
    // Doubling per interval: 1 -> 2 -> 4 -> 8 -> 16 -> 18 within 5 intervals.
    assertThat(trace.subList(0, 5)).containsExactly(2, 4, 8, 16, 18);
    assertThat(trace.subList(5, 10)).containsOnly(18);
    assertThat(pool.podsCreated()).isEqualTo(18);
    assertThat(trace).allMatch(r -> r <= needed(200));
  }

  @Test
  void stepDownWaitsForTheWindowThenShrinksInBoundedSteps() throws Exception {
    SimulatedPool pool = new SimulatedPool(18, 16, 1, i -> false);
    SandboxAutoscaler autoscaler = autoscaler(pool);
    pool.setDemand(200);
    for (int i = 0; i < 3; i++) {
      assertThat(step(autoscaler, pool, SETTINGS)).isEqualTo(18);
    }
    pool.setDemand(20); // needs 2 pods
    List<Integer> trace = new ArrayList<>();
    for (int i = 0; i < WINDOW_INTERVALS + 8; i++) {
      trace.add(step(autoscaler, pool, SETTINGS));
    }
    // Held for the window (the high recommendation is still in it)...
    assertThat(trace.subList(0, WINDOW_INTERVALS - 3)).containsOnly(18);
    // ...then down by at most half per interval: 18 -> 9 -> 4 -> 2, and it stays there.
    List<Integer> changes = distinctRuns(trace);
    assertThat(changes).containsExactly(18, 9, 4, 2);
    assertThat(trace.getLast()).isEqualTo(2);
    assertThat(trace.indexOf(2)).isLessThanOrEqualTo(WINDOW_INTERVALS + 3);
  }

  @Test
  void noisyLoadNeverFlaps() throws Exception {
    SimulatedPool pool = new SimulatedPool(9, 16, 1, i -> false);
    SandboxAutoscaler autoscaler = autoscaler(pool);
    Random random = new Random(42);
    List<Integer> trace = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      pool.setDemand(100 + random.nextInt(-25, 26)); // 75..125 sessions: 7..12 pods
      trace.add(step(autoscaler, pool, SETTINGS));
    }
    // Scale-ups are allowed (fast reaction to peaks); a reversal within one window is a flap.
    int lastChange = -1;
    int lastDirection = 0;
    for (int i = 1; i < trace.size(); i++) {
      int direction = Integer.signum(trace.get(i) - trace.get(i - 1));
      if (direction == 0) {
        continue;
      }
      if (lastDirection != 0 && direction != lastDirection) {
        assertThat(i - lastChange)
            .as("direction reversed at interval %d: %s", i, trace)
            .isGreaterThanOrEqualTo(WINDOW_INTERVALS);
      }
      lastChange = i;
      lastDirection = direction;
    }
    assertThat(distinctRuns(trace).size()).as("changes in %s", trace).isLessThanOrEqualTo(4);
    assertThat(trace).allMatch(r -> r >= 7 && r <= needed(125));
  }

  @Test
  void aPodThatNeverBecomesReadyIsNotReplacedByMorePods() throws Exception {
    // The third pod ever created hangs in Pending (e.g. no node fits it).
    SimulatedPool pool = new SimulatedPool(1, 16, 1, i -> i == 2);
    SandboxAutoscaler autoscaler = autoscaler(pool);
    pool.setDemand(30); // needs 3 pods
    List<Integer> trace = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      trace.add(step(autoscaler, pool, SETTINGS));
    }
    assertThat(trace.getLast()).isEqualTo(3);
    assertThat(trace).allMatch(r -> r <= 3);
    assertThat(pool.podsCreated()).isEqualTo(3);
    assertThat(pool.readyPods()).isEqualTo(2);
    assertThat(distinctRuns(trace)).containsExactly(2, 3);
  }

  @Test
  void staysWithinBoundsAndSaysWhy() throws Exception {
    AutoscalerSettings small = AutoscalerSettings.of(2, 5, 16, 0.7);
    SimulatedPool pool = new SimulatedPool(1, 16, 0, i -> false);
    SandboxAutoscaler autoscaler = autoscaler(pool);
    pool.setDemand(1000);
    assertThat(step(autoscaler, pool, small)).isEqualTo(2); // below min: brought back in
    assertThat(events.getLast().reason()).isEqualTo(ScalingDecision.Reason.OutOfBounds);
    assertThat(step(autoscaler, pool, small)).isEqualTo(4);
    assertThat(step(autoscaler, pool, small)).isEqualTo(5);
    ScalingDecision held = autoscaler.run("ns/pool", small);
    assertThat(held.reason()).isEqualTo(ScalingDecision.Reason.AtBound);
    assertThat(held.recommendedReplicas()).isEqualTo(needed(1000));
    assertThat(pool.replicas()).isEqualTo(5);
  }

  @Test
  void withinTheToleranceBandNothingChanges() throws Exception {
    SimulatedPool pool = new SimulatedPool(10, 16, 0, i -> false);
    SandboxAutoscaler autoscaler = autoscaler(pool);
    pool.setDemand(115); // 115 / (10 * 11.2) = 1.03: within ±10 %
    ScalingDecision d = autoscaler.run("ns/pool", SETTINGS);
    assertThat(d.reason()).isEqualTo(ScalingDecision.Reason.WithinTolerance);
    assertThat(d.changesReplicas()).isFalse();
    assertThat(pool.scaleCalls).isZero();
  }

  @Test
  void advisoryModeReportsDecisionsButNeverScales() throws Exception {
    SimulatedPool pool = new SimulatedPool(1, 16, 1, i -> false);
    List<Boolean> applied = new ArrayList<>();
    SandboxAutoscaler autoscaler =
        new SandboxAutoscaler(pool, new ScalingEvaluator(clock), pool, (d, a) -> applied.add(a));
    pool.setDemand(200);
    for (int i = 0; i < 5; i++) {
      step(autoscaler, pool, SETTINGS.withAdvisory(true));
    }
    assertThat(pool.scaleCalls).isZero();
    assertThat(pool.replicas()).isEqualTo(1);
    assertThat(applied).hasSize(5).containsOnly(false);
  }

  @Test
  void settingsRejectNonsense() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> AutoscalerSettings.of(5, 2, 16, 0.7))
        .hasMessageContaining("minReplicas <= maxReplicas");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> AutoscalerSettings.of(1, 2, 16, 1.5))
        .hasMessageContaining("targetUtilization");
  }

  /** The trace with consecutive repeats collapsed: the sizes the pool went through. */
  private static List<Integer> distinctRuns(List<Integer> trace) {
    List<Integer> out = new ArrayList<>();
    for (int r : trace) {
      if (out.isEmpty() || out.getLast() != r) {
        out.add(r);
      }
    }
    return out;
  }
}

package io.rolloutfarm.autoscaler;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/** Recent recommendations of one pool, for stabilised scale-down. Bounded by the window. */
final class RecommendationHistory {
  private record Entry(Instant at, int replicas) {}

  private final Deque<Entry> entries = new ArrayDeque<>();

  void add(Instant at, int replicas, Duration window) {
    entries.addLast(new Entry(at, replicas));
    Instant oldest = at.minus(window);
    while (!entries.isEmpty() && entries.peekFirst().at().isBefore(oldest)) {
      entries.removeFirst();
    }
  }

  /** The largest recommendation in the window (which always includes the latest one). */
  int max() {
    return entries.stream().mapToInt(Entry::replicas).max().orElse(0);
  }

  int size() {
    return entries.size();
  }
}

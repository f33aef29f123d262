package io.rolloutfarm.autoscaler;

/**
 * Load of one sandbox pod as its {@code GetStats} reported it. A pod that is not ready (or whose
 * stats could not be read) counts as pending: it is on its way but serves nothing yet.
 */
public record PodLoad(String pod, boolean ready, int capacity, int openSessions, int busySessions) {
  public PodLoad {
    if (capacity < 0 || openSessions < 0 || busySessions < 0) {
      throw new IllegalArgumentException("pod " + pod + ": negative load figures");
    }
  }

  /** A pod that exists but is not serving yet. */
  public static PodLoad pending(String pod) {
    return new PodLoad(pod, false, 0, 0, 0);
  }

  /** Session slots this pod occupies: open sessions hold a slot even while idle. */
  public int usedSlots() {
    return ready ? Math.max(openSessions, busySessions) : 0;
  }
}

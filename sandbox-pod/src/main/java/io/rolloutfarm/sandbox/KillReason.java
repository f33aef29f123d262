package io.rolloutfarm.sandbox;

/** Why a session ended; the metric label of {@code sandbox_session_kills_total}. */
enum KillReason {
  /** The client closed it. */
  CLOSED("closed"),
  /** The wall-clock timeout fired and the code ignored the interrupt. */
  TIMEOUT("timeout"),
  /** The CPU time limit (RLIMIT_CPU). */
  CPU("cpu"),
  /** The working directory outgrew its quota. */
  DISK_QUOTA("disk_quota"),
  /** The process died by itself: a signal (segfault, out of memory) or an exit. */
  DIED("died"),
  /** Idle for longer than the TTL. */
  IDLE("idle"),
  /** The server shut down. */
  SHUTDOWN("shutdown"),
  /** The session broke the protocol (wrote garbage on its channel). */
  PROTOCOL("protocol");

  final String label;

  KillReason(String label) {
    this.label = label;
  }
}

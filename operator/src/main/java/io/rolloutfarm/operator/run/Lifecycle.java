package io.rolloutfarm.operator.run;

/**
 * Where a run is, derived from its spec, its previous status and what was observed. Conditions are
 * what users read; this is the single decision they are computed from.
 *
 * @param phase the lifecycle phase
 * @param reason a CamelCase reason for conditions and events
 * @param message a sentence for people
 */
public record Lifecycle(Phase phase, String reason, String message) {

  /**
   * Lifecycle phases. Complete and Failed are terminal (InvalidSpec excepted: fixing it resumes).
   */
  public enum Phase {
    INVALID,
    RUNNING,
    SUSPENDED,
    COMPLETE,
    FAILED;

    public boolean terminal() {
      return this == COMPLETE || this == FAILED;
    }
  }

  public static Lifecycle running(String reason, String message) {
    return new Lifecycle(Phase.RUNNING, reason, message);
  }
}

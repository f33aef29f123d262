package io.rolloutfarm.learner.engine;

/**
 * The engine cannot serve the call right now: it crashed and is being restarted (retry later), or
 * it failed for good ({@link #permanent()}).
 */
public final class EngineUnavailableException extends RuntimeException {
  private final boolean permanent;

  public EngineUnavailableException(String message, boolean permanent, Throwable cause) {
    super(message, cause);
    this.permanent = permanent;
  }

  public boolean permanent() {
    return permanent;
  }
}

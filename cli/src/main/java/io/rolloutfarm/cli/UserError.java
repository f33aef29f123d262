package io.rolloutfarm.cli;

/**
 * A failure caused by the user's input (a file, a field, a flag). The CLI prints its message
 * without a stack trace and exits with {@link #exitCode()}.
 */
public class UserError extends RuntimeException {
  private final int exitCode;

  public UserError(String message) {
    this(message, 1);
  }

  public UserError(String message, int exitCode) {
    super(message);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}

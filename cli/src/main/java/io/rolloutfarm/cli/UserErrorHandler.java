package io.rolloutfarm.cli;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Prints user errors as one readable line; anything else is a bug and keeps its stack trace so it
 * can be reported.
 */
final class UserErrorHandler implements IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parsed) {
    if (ex instanceof UserError userError) {
      cl.getErr().println("farm: " + userError.getMessage());
      return userError.exitCode();
    }
    cl.getErr().println("farm: internal error: " + ex);
    ex.printStackTrace(cl.getErr());
    return 70; // EX_SOFTWARE
  }
}

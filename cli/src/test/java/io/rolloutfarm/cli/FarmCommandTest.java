package io.rolloutfarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class FarmCommandTest {

  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    CommandLine cl = FarmCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void versionNamesTheBuiltVersionAndTheJvm() {
    Run r = run("--version");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).containsPattern("farm \\d+\\.\\d+\\.\\d+").contains("Java ");
  }

  @Test
  void helpListsTheLauncherTestCommand() {
    Run r = run("--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("Usage: farm").contains("test").contains("--version");
  }

  @Test
  void unknownOptionIsAUsageErrorNamingTheOption() {
    Run r = run("--no-such-flag");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--no-such-flag");
  }

  @Test
  void userErrorsPrintOneLineAndTheirExitCode() {
    CommandLine cl = new CommandLine(new FailingCommand());
    cl.setExecutionExceptionHandler(new UserErrorHandler());
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    assertThat(cl.execute()).isEqualTo(3);
    assertThat(err.toString())
        .isEqualTo(
            "farm: examples/x.yaml: spec.totalSteps: must be at least 1" + System.lineSeparator());
  }

  @picocli.CommandLine.Command(name = "failing")
  static final class FailingCommand implements Runnable {
    @Override
    public void run() {
      throw new UserError("examples/x.yaml: spec.totalSteps: must be at least 1", 3);
    }
  }
}

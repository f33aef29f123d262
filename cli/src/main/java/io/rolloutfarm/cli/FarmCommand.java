package io.rolloutfarm.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code farm} command. Subcommands are registered here as the components provide them. */
@Command(
    name = "farm",
    mixinStandardHelpOptions = true,
    subcommands = {
      CommandLine.HelpCommand.class,
      io.rolloutfarm.cli.worker.WorkerCommand.class,
      io.rolloutfarm.cli.worker.RolloutCommand.class,
      io.rolloutfarm.cli.learner.LearnerCommand.class,
      io.rolloutfarm.cli.learner.StatusCommand.class,
      io.rolloutfarm.cli.bench.BenchCommand.class,
      io.rolloutfarm.cli.local.RunCommand.class,
      io.rolloutfarm.cli.local.DemoCommand.class,
      io.rolloutfarm.cli.sandbox.SandboxCommand.class,
      ValidateCommand.class
    },
    versionProvider = FarmCommand.VersionProvider.class,
    description = "Rollout Farm: reinforcement learning for agentic vision-language models.",
    footerHeading = "%nCommands of the ./farm launcher itself:%n",
    footer = {
      "  test      Build everything and run every Java and Python test.",
      "",
      "Run './farm COMMAND --help' for a command's options."
    })
public final class FarmCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    // No subcommand: show what there is rather than doing nothing silently.
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Builds the command line with every subcommand and the project's error handling. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new FarmCommand());
    cl.setExecutionExceptionHandler(new UserErrorHandler());
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** Reads the version that the build wrote into {@code farm-version.properties}. */
  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties props = new Properties();
      try (InputStream in = FarmCommand.class.getResourceAsStream("/farm-version.properties")) {
        if (in == null) {
          throw new IOException("farm-version.properties is missing from the farm jar");
        }
        props.load(in);
      }
      return new String[] {
        "farm " + props.getProperty("farm.version"),
        "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
      };
    }
  }
}

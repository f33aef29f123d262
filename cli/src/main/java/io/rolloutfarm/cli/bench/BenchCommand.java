package io.rolloutfarm.cli.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code farm bench}: the benchmarks. */
@Command(
    name = "bench",
    footer = {
      "",
      "farm bench operator [--json FILE]: the operator against the Fabric8 mock API server;"
          + " the launcher runs it on the operator module's test classpath."
    },
    mixinStandardHelpOptions = true,
    description = "Benchmarks: tables of measured figures with same-run baselines; --json FILE.",
    subcommands = {RolloutBenchCommand.class, LearnerBenchCommand.class, SandboxBenchCommand.class})
public final class BenchCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}

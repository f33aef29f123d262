package io.rolloutfarm.cli.local;

import io.rolloutfarm.api.v1alpha1.RunFile;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options {@code farm run} and {@code farm demo} share: where a run lives and how it shows. */
public final class LocalRunOptions {
  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      description =
          "Learner state, checkpoints, engine log and sandbox folders (default: runs/NAME in the"
              + " current folder). Running again with the same folder resumes.")
  Path workDir;

  @Option(
      names = "--report",
      paramLabel = "DIR",
      description = "Report folder (default: WORK_DIR/report).")
  Path reportDir;

  @Option(
      names = "--device",
      paramLabel = "DEVICE",
      defaultValue = "auto",
      description = "Engine device: auto, cpu or cuda (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "0",
      description = "Engine CPU threads; 0 uses every core (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--eval-concurrency",
      paramLabel = "N",
      defaultValue = "32",
      description = "Held-out trajectories run at once (default: ${DEFAULT-VALUE}).")
  int evalConcurrency;

  @Option(
      names = "--no-progress",
      description = "No live progress bar: one line per step (the default without a terminal).")
  boolean noProgress;

  /** The work folder of {@code runFile}: --work-dir, else runs/NAME. */
  Path workDir(RunFile runFile) {
    return (workDir != null ? workDir : Path.of("runs", runFile.name())).toAbsolutePath();
  }

  /** The report folder of {@code runFile}: --report, else WORK_DIR/report. */
  Path reportDir(RunFile runFile) {
    return (reportDir != null ? reportDir : workDir(runFile).resolve("report")).toAbsolutePath();
  }

  LocalFarm.Options toFarmOptions(RunFile runFile) {
    return new LocalFarm.Options(
        workDir(runFile),
        reportDir(runFile),
        device,
        threads,
        evalConcurrency,
        !noProgress && System.console() != null);
  }
}

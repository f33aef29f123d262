package io.rolloutfarm.cli.local;

import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.proto.PythonPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code farm demo}: the quickstart, a small agentic VLM trained end to end on this machine. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Train the built-in small vision-language policy end to end on this machine:"
          + " examples/quickstart.yaml (behaviour-cloning warm-up on a mixture of expert code and"
          + " direct guesses, then RL with oversampling-filtering-ranking and the accumulative"
          + " tool reward, held-out evaluation after the warm-up and at the end).",
      "Generates the seeded synthetic suite and the warm-up demonstrations in examples/data on"
          + " first use. --ablation runs the same with the tool bonus at 0."
    })
public final class DemoCommand implements Callable<Integer> {
  /** The quickstart's data: 1,200 + 90 seeded records, half of the demonstrations expert. */
  static final int TRAIN = 1200;

  static final int HELDOUT = 90;
  static final long SEED = 0;
  static final double EXPERT_FRACTION = 0.5;

  /**
   * Two families where code beats guessing by far (counting, reading a chart) and one where a
   * single look is usually enough (comparing sizes), so that tool use can also collapse.
   */
  static final java.util.List<String> FAMILIES = java.util.List.of("count", "chart", "compare");

  @Option(
      names = "--ablation",
      description = "Run examples/ablation-no-tool-reward.yaml (tool bonus 0) instead.")
  boolean ablation;

  @Mixin LocalRunOptions local;

  @Option(
      names = "--fresh",
      description = "Start over: delete the run folder (checkpoints, report) first.")
  boolean fresh;

  @Option(
      names = "--prepare-only",
      description =
          "Only generate the suite and the demonstrations (for ./farm run examples/*.yaml).")
  boolean prepareOnly;

  @Override
  public Integer call() throws Exception {
    Path examples = PythonPaths.home().resolve("examples");
    Path file = examples.resolve(ablation ? "ablation-no-tool-reward.yaml" : "quickstart.yaml");
    RunFile runFile = RunCommand.load(file);
    Path work = local.workDir(runFile);
    Path report = local.reportDir(runFile);
    if (fresh) {
      deleteTree(work);
      if (!report.startsWith(work)) {
        deleteTree(report);
      }
    }
    DemoData data =
        new DemoData(
            examples.resolve("data/suite"), TRAIN, HELDOUT, SEED, FAMILIES, EXPERT_FRACTION);
    try {
      LocalLogging.toFile(work);
      data.ensure(runFile, work, System.out);
    } catch (IOException e) {
      throw new UserError(e.getMessage());
    }
    if (prepareOnly) {
      System.out.println("farm: the quickstart's data is ready in " + data.suiteDir());
      return 0;
    }
    return RunCommand.execute(runFile, local.toFarmOptions(runFile), System.out);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

package io.rolloutfarm.cli;

import io.rolloutfarm.api.v1alpha1.ResourceYaml;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.SpecValidator;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.api.v1alpha1.Violation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code farm validate FILE}: the operator's validation rules, offline. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = {
      "Check a TrainingRun or SandboxPool YAML file with the same rules as the operator.",
      "Exits 0 and prints one line when the file is valid; exits 1 and names every offending"
          + " field otherwise."
    })
final class ValidateCommand implements Callable<Integer> {

  @Parameters(paramLabel = "FILE", description = "TrainingRun or SandboxPool YAML.")
  Path file;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new UserError(file + ": no such file");
    } catch (IOException e) {
      throw new UserError(file + ": cannot read: " + e.getMessage());
    }
    String origin = file.toString();
    try {
      String kind = ResourceYaml.kindOf(origin, text);
      return switch (kind) {
        case "TrainingRun" -> report(origin, RunFile.parse(origin, text));
        case "SandboxPool" -> report(origin, ResourceYaml.parse(origin, text, SandboxPool.class));
        default ->
            throw new UserError(
                origin
                    + ": kind: expected TrainingRun or SandboxPool, found "
                    + (kind.isEmpty() ? "nothing" : kind));
      };
    } catch (RunFile.InvalidRunFileException e) {
      throw new UserError(e.getMessage());
    }
  }

  private int report(String origin, TrainingRun run) {
    List<Violation> violations = SpecValidator.validate(run);
    if (!violations.isEmpty()) {
      return fail(origin, violations);
    }
    var s = run.getSpec();
    String pool =
        s.sandbox.poolRef != null
            ? "pool " + s.sandbox.poolRef
            : "sandboxes " + s.sandbox.template.minReplicas + ".." + s.sandbox.template.maxReplicas;
    spec.commandLine()
        .getOut()
        .printf(
            "OK: %s: TrainingRun %s (%d steps, %d×%d rollouts/step → %d groups, %s)%n",
            origin,
            name(run.getMetadata()),
            s.totalSteps,
            s.algorithm.oversampleBatchSize,
            s.algorithm.groupSize,
            s.algorithm.trainBatchSize,
            pool);
    return 0;
  }

  private int report(String origin, SandboxPool pool) {
    List<Violation> violations = SpecValidator.validate(pool);
    if (!violations.isEmpty()) {
      return fail(origin, violations);
    }
    var s = pool.getSpec();
    spec.commandLine()
        .getOut()
        .printf(
            "OK: %s: SandboxPool %s (%d..%d pods × %d sessions, target %.0f%%)%n",
            origin,
            name(pool.getMetadata()),
            s.minReplicas,
            s.maxReplicas,
            s.sessionsPerPod,
            s.targetUtilization * 100);
    return 0;
  }

  private int fail(String origin, List<Violation> violations) {
    for (Violation v : violations) {
      spec.commandLine().getErr().println(origin + ": " + v);
    }
    spec.commandLine()
        .getErr()
        .printf(
            "farm: %s: %d problem%s%n",
            origin, violations.size(), violations.size() == 1 ? "" : "s");
    return 1;
  }

  private static String name(io.fabric8.kubernetes.api.model.ObjectMeta meta) {
    return meta == null || meta.getName() == null ? "(unnamed)" : meta.getName();
  }
}

package io.rolloutfarm.cli.worker;

import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.worker.TrajectoryJson;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.AgentLoop;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.policy.OpenAiChatPolicy;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.policy.PolicyBackends;
import io.rolloutfarm.worker.sandbox.EmbeddedSandboxes;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import io.rolloutfarm.worker.task.TaskFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code farm rollout}: one trajectory, printed as JSON. */
@Command(
    name = "rollout",
    mixinStandardHelpOptions = true,
    header = "Run one trajectory of a task and print it as JSON.",
    description = {
      "Run one trajectory of a task and print it as JSON: every turn's text and code, the",
      "observations (image counts and sizes), the answer, the end reason and the reward breakdown.",
      "For debugging prompts, policies and sandboxes. Without --sandbox the code runs in a sandbox",
      "server started inside this command on a loopback port and stopped when the trajectory ends.",
      "Exits 4 when the sandbox or policy failed."
    })
public final class RolloutCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--task",
      required = true,
      paramLabel = "TASK.json",
      description = "The task (see README: task JSON).")
  Path task;

  @Option(
      names = "--policy",
      required = true,
      paramLabel = "SPEC",
      description =
          "scripted:FILE (responses separated by lines holding only ----), HOST:PORT (a PolicyService), or openai:URL.")
  String policy;

  @Option(
      names = "--policy-model",
      paramLabel = "NAME",
      description = "Model name for openai:URL policies.")
  String policyModel;

  @Option(
      names = "--sandbox",
      paramLabel = "HOST:PORT",
      description =
          "Sandbox server(s): HOST:PORT[,...] or dns:///NAME:PORT (default: an embedded sandbox).")
  String sandbox;

  @Option(
      names = "--run",
      paramLabel = "FILE",
      description =
          "Take the agent loop settings (limits, prompts, rewards) from this TrainingRun.")
  Path run;

  @Option(names = "--max-turns", paramLabel = "N", description = "Override the turn budget.")
  Integer maxTurns;

  @Override
  public Integer call() throws Exception {
    AgentSettings settings;
    Task loaded;
    try {
      settings = run == null ? AgentSettings.defaults() : AgentSettings.from(RunFile.load(run));
      if (maxTurns != null) {
        if (maxTurns < 1) {
          throw new UserError("--max-turns must be at least 1, got " + maxTurns);
        }
        settings =
            settings.withLimits(
                maxTurns,
                settings.maxTokensPerTurn(),
                settings.maxTotalTokens(),
                settings.maxImagesInContext());
      }
      loaded = TaskFile.load(task);
    } catch (RunFile.InvalidRunFileException | IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    Policy backend;
    try {
      backend = PolicyBackends.open(policy, policyModel);
    } catch (PolicyFailure e) {
      throw new UserError("cannot reach the policy at " + policy + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    if (backend instanceof OpenAiChatPolicy) {
      spec.commandLine().getErr().println("farm: note: " + OpenAiChatPolicy.EVALUATION_ONLY);
    }
    Trajectory trajectory;
    try (backend;
        EmbeddedSandboxes embedded = sandbox == null ? startEmbedded() : null;
        GrpcSandboxes sandboxes = connect(embedded == null ? sandbox : embedded.targets())) {
      trajectory =
          new AgentLoop(backend, sandboxes, settings, WorkerMetrics.inMemory()).run(loaded);
    }
    spec.commandLine().getOut().println(TrajectoryJson.toText(trajectory));
    spec.commandLine().getOut().flush();
    boolean infra =
        trajectory.getEndReason() == EndReason.END_REASON_SANDBOX_FAILURE
            || trajectory.getEndReason() == EndReason.END_REASON_POLICY_FAILURE;
    return infra ? 4 : 0;
  }

  /**
   * One server with room for the trajectory's retries: an attempt that fails closes its session
   * before the next one opens, but a dead session's slot frees only once its process is reaped.
   */
  private static EmbeddedSandboxes startEmbedded() {
    try {
      return EmbeddedSandboxes.start(1, 4);
    } catch (IOException | RuntimeException e) {
      throw new UserError(
          "cannot start the embedded sandbox (or pass --sandbox HOST:PORT): " + e.getMessage());
    }
  }

  private GrpcSandboxes connect(String targets) {
    try {
      return GrpcSandboxes.connect(targets, GrpcSandboxes.Deadlines.defaults(), 0);
    } catch (IllegalArgumentException e) {
      throw new UserError("--sandbox: " + e.getMessage());
    }
  }
}

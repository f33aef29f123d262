package io.rolloutfarm.worker.agent;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import io.rolloutfarm.api.v1alpha1.AlgorithmSpec.ExecutionErrorPolicy;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.TrainingRunSpec;
import io.rolloutfarm.worker.reward.RewardRules;

/**
 * Settings of the agent loop, normally read from a run's {@code spec.algorithm}.
 *
 * @param maxInfraRetries how many times a trajectory broken by the sandbox or policy is started
 *     again (on another sandbox where possible) before it is reported as an infrastructure failure
 * @param execTimeoutMs per-execution limit sent to the sandbox; 0 for the sandbox's default
 * @param seed run seed; when non-zero every generation gets a seed derived from it and the turn
 */
public record AgentSettings(
    int maxTurns,
    int maxTokensPerTurn,
    int maxTotalTokens,
    int maxImagesInContext,
    double temperature,
    double topP,
    boolean endOnExecutionError,
    RewardRules reward,
    PromptTemplate imageTemplate,
    PromptTemplate videoTemplate,
    ChatFormat chatFormat,
    int maxInfraRetries,
    int execTimeoutMs,
    long seed) {

  /** Stop string of every generation: a turn ends when its code block closes. */
  public static final String STOP = "</code>";

  /** Infrastructure retries per trajectory unless configured otherwise. */
  public static final int DEFAULT_INFRA_RETRIES = 2;

  public AgentSettings {
    if (maxTurns < 1 || maxTokensPerTurn < 1 || maxTotalTokens < 1 || maxImagesInContext < 0) {
      throw new IllegalArgumentException(
          "agent limits must be positive: maxTurns="
              + maxTurns
              + " maxTokensPerTurn="
              + maxTokensPerTurn
              + " maxTotalTokens="
              + maxTotalTokens
              + " maxImagesInContext="
              + maxImagesInContext);
    }
  }

  /** The settings of a run file; prompt template paths resolve against the file's folder. */
  public static AgentSettings from(RunFile runFile) {
    TrainingRunSpec spec = runFile.run().getSpec();
    return from(spec, runFile);
  }

  /** The settings of a run spec; {@code runFile} resolves template paths (may be null). */
  public static AgentSettings from(TrainingRunSpec spec, RunFile runFile) {
    AlgorithmSpec a = spec.algorithm;
    // The built-in small model reads a compact plain-text prompt; real models the full PyVision
    // prompt in ChatML.
    boolean builtin = spec.model.weightsPath == null || spec.model.weightsPath.isBlank();
    String style = builtin ? "compact" : "pyvision";
    PromptTemplate image =
        a.prompts.imageTemplate == null
            ? PromptTemplate.builtin("image-" + style)
            : PromptTemplate.load(
                runFile == null
                    ? java.nio.file.Path.of(a.prompts.imageTemplate)
                    : runFile.resolve(a.prompts.imageTemplate));
    PromptTemplate video =
        a.prompts.videoTemplate == null
            ? PromptTemplate.builtin("video-" + style)
            : PromptTemplate.load(
                runFile == null
                    ? java.nio.file.Path.of(a.prompts.videoTemplate)
                    : runFile.resolve(a.prompts.videoTemplate));
    return new AgentSettings(
        a.maxTurns,
        a.maxTokensPerTurn,
        a.maxTotalTokens,
        a.maxImagesInContext,
        a.temperature,
        a.topP,
        a.onExecutionError == ExecutionErrorPolicy.EndTrajectory,
        RewardRules.from(a.reward),
        image,
        video,
        builtin ? ChatFormat.PLAIN : ChatFormat.CHATML,
        DEFAULT_INFRA_RETRIES,
        0,
        spec.seed);
  }

  /** The defaults of an empty run (built-in model). */
  public static AgentSettings defaults() {
    return from(new TrainingRunSpec(), null);
  }

  /** A copy with other limits. */
  public AgentSettings withLimits(
      int maxTurns, int maxTokensPerTurn, int maxTotalTokens, int maxImagesInContext) {
    return new AgentSettings(
        maxTurns,
        maxTokensPerTurn,
        maxTotalTokens,
        maxImagesInContext,
        temperature,
        topP,
        endOnExecutionError,
        reward,
        imageTemplate,
        videoTemplate,
        chatFormat,
        maxInfraRetries,
        execTimeoutMs,
        seed);
  }

  /** A copy with another execution-error policy. */
  public AgentSettings withEndOnExecutionError(boolean end) {
    return new AgentSettings(
        maxTurns,
        maxTokensPerTurn,
        maxTotalTokens,
        maxImagesInContext,
        temperature,
        topP,
        end,
        reward,
        imageTemplate,
        videoTemplate,
        chatFormat,
        maxInfraRetries,
        execTimeoutMs,
        seed);
  }

  /** A copy with other reward rules. */
  public AgentSettings withReward(RewardRules rules) {
    return new AgentSettings(
        maxTurns,
        maxTokensPerTurn,
        maxTotalTokens,
        maxImagesInContext,
        temperature,
        topP,
        endOnExecutionError,
        rules,
        imageTemplate,
        videoTemplate,
        chatFormat,
        maxInfraRetries,
        execTimeoutMs,
        seed);
  }

  /** A copy with another retry budget. */
  public AgentSettings withMaxInfraRetries(int retries) {
    return new AgentSettings(
        maxTurns,
        maxTokensPerTurn,
        maxTotalTokens,
        maxImagesInContext,
        temperature,
        topP,
        endOnExecutionError,
        reward,
        imageTemplate,
        videoTemplate,
        chatFormat,
        retries,
        execTimeoutMs,
        seed);
  }
}

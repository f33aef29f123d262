package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/** Oversampling-filtering-ranking, GRPO and the agent loop. Defaults follow PyVision-RL. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.trainBatchSize <= self.oversampleBatchSize",
    message = "trainBatchSize must be <= oversampleBatchSize",
    fieldPath = ".trainBatchSize",
    reason = "FieldValueInvalid")
@ValidationRule(
    value = "self.maxTokensPerTurn <= self.maxTotalTokens",
    message = "maxTokensPerTurn must be <= maxTotalTokens",
    fieldPath = ".maxTokensPerTurn",
    reason = "FieldValueInvalid")
public class AlgorithmSpec {
  @Min(2)
  @JsonPropertyDescription("Rollouts per prompt (a GRPO group).")
  public int groupSize = 8;

  @Min(1)
  @Default("32")
  @JsonPropertyDescription("Prompts rolled out per step (oversampling).")
  public int oversampleBatchSize = 32;

  @Min(1)
  @Default("16")
  @JsonPropertyDescription("Groups kept per step after filtering and ranking.")
  public int trainBatchSize = 16;

  @JsonPropertyDescription("Which groups and trajectories are dropped before ranking.")
  public FilterSpec filters = new FilterSpec();

  @JsonPropertyDescription("How remaining groups are ranked before the top ones are kept.")
  public Ranking ranking = Ranking.RewardStdDesc;

  @JsonPropertyDescription("What happens to valid groups beyond trainBatchSize.")
  public SurplusPolicy surplus = SurplusPolicy.Discard;

  @JsonPropertyDescription("What happens to groups with infrastructure-failed trajectories.")
  public InfraFailurePolicy infraFailure = InfraFailurePolicy.Retry;

  @Min(0)
  @JsonPropertyDescription("Policy versions a trajectory may lag behind; 0 is synchronous.")
  public int maxOffPolicySteps = 0;

  @JsonPropertyDescription("Divide group-centred rewards by the group's std (off: paper default).")
  public boolean normalizeAdvantageByStd = false;

  @Min(value = 0, inclusive = false)
  @JsonPropertyDescription("Peak learning rate of the RL updates.")
  public double learningRate = 1e-6;

  @JsonPropertyDescription("Learning-rate schedule over RL steps.")
  public LrSchedule lrSchedule = LrSchedule.Constant;

  @Min(0)
  @JsonPropertyDescription("Linear warm-up steps of the learning rate.")
  public int lrWarmupSteps = 0;

  @Min(0)
  @Max(1)
  @JsonPropertyDescription("Lower clip of the token importance ratio.")
  public double clipLow = 0.2;

  @Min(0)
  @Max(10)
  @JsonPropertyDescription("Upper clip of the token importance ratio.")
  public double clipHigh = 0.2;

  @Min(0)
  @JsonPropertyDescription("Gradient-norm clip; 0 disables it.")
  public double maxGradNorm = 1.0;

  @Min(0)
  @JsonPropertyDescription("Trajectories per optimizer step; 0 means the whole batch.")
  public int miniBatchSize = 0;

  @Min(1)
  @JsonPropertyDescription("Optimisation epochs over each training batch.")
  public int epochs = 1;

  @Min(1)
  @JsonPropertyDescription("Turn budget of the agent loop.")
  public int maxTurns = 5;

  @Min(1)
  @Default("1024")
  @JsonPropertyDescription("Most tokens the policy may generate in one turn.")
  public int maxTokensPerTurn = 1024;

  @Min(1)
  @Default("16384")
  @JsonPropertyDescription("Most tokens in a whole trajectory (prompt, turns, observations).")
  public int maxTotalTokens = 16384;

  @Min(0)
  @JsonPropertyDescription("Most images in the model's context.")
  public int maxImagesInContext = 16;

  @Min(0)
  @JsonPropertyDescription("Sampling temperature of rollouts.")
  public double temperature = 1.0;

  @Min(0)
  @Max(1)
  @JsonPropertyDescription("Nucleus sampling mass of rollouts.")
  public double topP = 1.0;

  @JsonPropertyDescription("Show execution errors to the model, or end the trajectory.")
  public ExecutionErrorPolicy onExecutionError = ExecutionErrorPolicy.ShowError;

  @JsonPropertyDescription("Reward rules.")
  public RewardSpec reward = new RewardSpec();

  @JsonPropertyDescription("System prompt templates; built-in ones when unset.")
  public PromptSpec prompts = new PromptSpec();

  /** Group ranking. */
  public enum Ranking {
    RewardStdDesc,
    None
  }

  /** Surplus group handling. */
  public enum SurplusPolicy {
    Discard,
    CarryOver
  }

  /** Handling of infrastructure failures (never scored as reward 0). */
  public enum InfraFailurePolicy {
    Retry,
    MaskGroup
  }

  /** Learning-rate schedules. */
  public enum LrSchedule {
    Constant,
    Linear,
    Cosine
  }

  /** What an execution error does to a trajectory. */
  public enum ExecutionErrorPolicy {
    ShowError,
    EndTrajectory
  }
}

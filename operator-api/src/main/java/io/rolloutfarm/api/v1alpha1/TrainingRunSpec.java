package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** What a {@link TrainingRun} trains, with what algorithm, on which resources. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingRunSpec {
  @Required
  @Min(1)
  @JsonPropertyDescription("RL steps (policy updates) after which the run is Complete.")
  public Integer totalSteps;

  @JsonPropertyDescription("When true, rollouts and training pause; the learner keeps its state.")
  public boolean suspend = false;

  @JsonPropertyDescription("Seed for data order, sampling and initialisation.")
  public long seed = 0;

  @JsonPropertyDescription("The policy: the built-in small model or weights on a volume.")
  public ModelSpec model = new ModelSpec();

  @Required
  @JsonPropertyDescription("Training and held-out prompts (JSONL).")
  public DatasetSpec dataset = new DatasetSpec();

  @JsonPropertyDescription("Behaviour-cloning warm-up before RL; off when steps is 0.")
  public WarmupSpec warmup = new WarmupSpec();

  @JsonPropertyDescription("Oversampling-filtering-ranking, GRPO and the agent loop's limits.")
  public AlgorithmSpec algorithm = new AlgorithmSpec();

  @JsonPropertyDescription("Learner pods (GPU).")
  public LearnerSpec learner = new LearnerSpec();

  @JsonPropertyDescription("Rollout worker pods (CPU) that drive the agent loops.")
  public RolloutWorkersSpec rolloutWorkers = new RolloutWorkersSpec();

  @JsonPropertyDescription("Sandboxes: an inline pool template or a reference to a SandboxPool.")
  public SandboxSpec sandbox = new SandboxSpec();

  @JsonPropertyDescription("Where and how often checkpoints are written.")
  public CheckpointSpec checkpoint = new CheckpointSpec();
}

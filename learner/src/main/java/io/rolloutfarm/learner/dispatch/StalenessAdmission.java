package io.rolloutfarm.learner.dispatch;

/**
 * AReaL-style admission control: a new prompt may be rolled out only while the prompts admitted so
 * far would all be consumed within {@code maxOffPolicySteps} steps of the current one. With 0 the
 * learner is synchronous (as in PyVision-RL): a step's prompts are admitted only after the previous
 * step's update, so every trajectory comes from the current policy.
 */
public record StalenessAdmission(int oversampleBatchSize, int maxOffPolicySteps) {

  /** Prompts that may have been admitted once {@code stepsDone} steps are complete. */
  public long budget(long stepsDone) {
    return (stepsDone + maxOffPolicySteps + 1) * oversampleBatchSize;
  }

  public boolean mayAdmit(long promptsAdmitted, long stepsDone) {
    return promptsAdmitted < budget(stepsDone);
  }
}

package io.rolloutfarm.worker.reward;

import io.rolloutfarm.api.v1alpha1.RewardSpec;

/**
 * Reward settings.
 *
 * @param toolBonus c in {@code R = R_acc + c * n_toolcalls * 1[R_acc = 1]}
 * @param toolBonusCap upper bound of the tool bonus; null for none
 * @param hierarchical VISTA-style: repetition first, then format, then correctness
 * @param maxAnswerChars answers longer than this score 0
 */
public record RewardRules(
    double toolBonus, Double toolBonusCap, boolean hierarchical, int maxAnswerChars) {
  /** The rules of a run's {@code spec.algorithm.reward}. */
  public static RewardRules from(RewardSpec spec) {
    return new RewardRules(
        spec.toolBonus, spec.toolBonusCap, spec.hierarchical, spec.maxAnswerChars);
  }
}

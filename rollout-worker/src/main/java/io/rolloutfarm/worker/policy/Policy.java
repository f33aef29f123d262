package io.rolloutfarm.worker.policy;

import io.rolloutfarm.worker.agent.Context;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;

/**
 * A policy the agent loop can drive. Implementations are thread-safe; one instance serves every
 * concurrent trajectory of a worker.
 */
public interface Policy extends AutoCloseable {
  /** Model facts (special tokens, limits); fetched once when the backend starts. */
  PolicyFacts facts();

  /** Token ids of a text, with the policy's tokenizer. */
  int[] tokenize(String text) throws PolicyFailure;

  /** Samples the next turn of a context. */
  Generation generate(Context context, Sampling sampling, String requestId) throws PolicyFailure;

  /** A short description for logs and printed trajectories, e.g. {@code scripted:FILE}. */
  String describe();

  @Override
  default void close() {}
}

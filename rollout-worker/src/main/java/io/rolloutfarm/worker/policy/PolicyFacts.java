package io.rolloutfarm.worker.policy;

/**
 * What the agent loop needs to know about a policy to build contexts.
 *
 * @param trainable true when token ids and logprobs are exactly what the model sampled
 */
public record PolicyFacts(
    String modelName,
    long policyVersion,
    int imageTokenId,
    int eosTokenId,
    int maxContextTokens,
    int tokensPerImage,
    boolean trainable) {}

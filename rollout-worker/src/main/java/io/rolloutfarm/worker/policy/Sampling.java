package io.rolloutfarm.worker.policy;

import java.util.List;

/** Sampling settings of one generation. */
public record Sampling(
    double temperature, double topP, int maxNewTokens, List<String> stop, long seed) {}

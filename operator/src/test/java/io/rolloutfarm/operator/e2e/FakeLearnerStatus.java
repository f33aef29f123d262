package io.rolloutfarm.operator.e2e;

import io.rolloutfarm.operator.testing.TestingLearnerStatusClient;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;

/** Replaces the gRPC learner status client in the running operator; tests set the answers. */
@Alternative
@Priority(1)
@Singleton
public class FakeLearnerStatus extends TestingLearnerStatusClient {}

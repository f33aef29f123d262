package io.rolloutfarm.operator.testing;

import io.fabric8.kubernetes.client.CustomResource;
import io.rolloutfarm.operator.status.StatusWriter;

/** Status writes go nowhere but are counted (the resource object itself carries the status). */
public final class TestingStatusWriter extends StatusWriter {
  @Override
  protected <S, R extends CustomResource<?, S>> void persist(R resource, S status) {}
}

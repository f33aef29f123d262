package io.rolloutfarm.operator.testing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.rolloutfarm.operator.kube.EventRecorder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps events in memory. */
public final class TestingEventRecorder implements EventRecorder {
  public record Recorded(String object, Type type, String reason, String message) {}

  public final List<Recorded> events = new CopyOnWriteArrayList<>();

  @Override
  public void record(HasMetadata about, Type type, String reason, String message) {
    events.add(new Recorded(about.getMetadata().getName(), type, reason, message));
  }

  public List<String> reasons() {
    return events.stream().map(Recorded::reason).toList();
  }
}

package io.rolloutfarm.worker.sandbox;

import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.worker.agent.InfraFailure.SandboxFailure;
import java.util.List;
import java.util.Set;

/** Where trajectories get their sandbox sessions. Thread-safe. */
public interface Sandboxes extends AutoCloseable {
  /**
   * Opens a session with the media preloaded, preferring sandboxes not in {@code avoid} (the ones
   * that already failed this task).
   */
  SandboxSession open(List<Media> media, String label, Set<String> avoid) throws SandboxFailure;

  /** A description for logs, e.g. the target list. */
  String describe();

  @Override
  default void close() {}
}

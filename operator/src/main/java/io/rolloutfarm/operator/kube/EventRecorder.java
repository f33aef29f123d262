package io.rolloutfarm.operator.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Kubernetes Events about the operator's resources. */
public interface EventRecorder {
  enum Type {
    Normal,
    Warning
  }

  void record(HasMetadata about, Type type, String reason, String message);

  default void normal(HasMetadata about, String reason, String message) {
    record(about, Type.Normal, reason, message);
  }

  default void warning(HasMetadata about, String reason, String message) {
    record(about, Type.Warning, reason, message);
  }
}

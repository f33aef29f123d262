package io.rolloutfarm.learner.serve;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rolloutfarm.learner.engine.EngineUnavailableException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Maps learner failures to gRPC statuses with messages a person can act on. */
final class GrpcErrors {
  private GrpcErrors() {}

  static StatusRuntimeException toStatus(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (t instanceof EngineUnavailableException e) {
      return Status.UNAVAILABLE
          .withDescription(e.getMessage() + (e.permanent() ? "" : "; retry shortly"))
          .asRuntimeException();
    }
    if (t instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(t.getMessage()).asRuntimeException();
    }
    if (t instanceof IllegalStateException) {
      return Status.UNAVAILABLE.withDescription(t.getMessage()).asRuntimeException();
    }
    return Status.INTERNAL.withDescription(String.valueOf(t)).withCause(t).asRuntimeException();
  }
}

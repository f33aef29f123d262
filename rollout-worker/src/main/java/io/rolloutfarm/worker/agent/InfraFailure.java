package io.rolloutfarm.worker.agent;

import io.rolloutfarm.proto.v1.EndReason;

/**
 * A trajectory broke because a piece of infrastructure failed, not because of anything the model
 * did. Such trajectories are retried and never scored.
 */
public abstract sealed class InfraFailure extends Exception
    permits InfraFailure.SandboxFailure, InfraFailure.PolicyFailure {
  private final boolean retryable;

  InfraFailure(String message, Throwable cause, boolean retryable) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** False when retrying cannot help (e.g. a scripted policy ran out of responses). */
  public boolean retryable() {
    return retryable;
  }

  /** The end reason a trajectory gets when retries run out. */
  public abstract EndReason endReason();

  /** The sandbox died, was unreachable or lost the session. */
  public static final class SandboxFailure extends InfraFailure {
    private final String endpoint;

    public SandboxFailure(String endpoint, String message, Throwable cause) {
      super(message, cause, true);
      this.endpoint = endpoint;
    }

    /** The sandbox address that failed; retries avoid it. */
    public String endpoint() {
      return endpoint;
    }

    @Override
    public EndReason endReason() {
      return EndReason.END_REASON_SANDBOX_FAILURE;
    }
  }

  /** The policy server failed or could not be reached. */
  public static final class PolicyFailure extends InfraFailure {
    public PolicyFailure(String message, Throwable cause, boolean retryable) {
      super(message, cause, retryable);
    }

    @Override
    public EndReason endReason() {
      return EndReason.END_REASON_POLICY_FAILURE;
    }
  }
}

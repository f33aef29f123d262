package io.rolloutfarm.worker.sandbox;

import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.worker.agent.InfraFailure.SandboxFailure;

/** One open sandbox session: a Python runtime whose globals persist across turns. */
public interface SandboxSession extends AutoCloseable {
  /** The sandbox server that holds the session. */
  String endpoint();

  /**
   * Runs code. Errors raised by the code come back as a response; a lost session or an unreachable
   * server is a {@link SandboxFailure}.
   */
  ExecuteResponse execute(String code) throws SandboxFailure;

  /** Closes the session; never fails (the server reclaims sessions whose owner vanished). */
  @Override
  void close();
}

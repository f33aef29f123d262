package io.rolloutfarm.learner.engine;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.util.OptionalLong;

/** Starts engine processes; the supervisor calls it again after a crash. */
public interface EngineLauncher {

  /** Starts an engine and returns once it listens. {@code incarnation} counts from 0. */
  LaunchedEngine launch(int incarnation) throws IOException;

  /** One running engine. */
  interface LaunchedEngine {
    /** A channel to the engine's EngineService. */
    ManagedChannel channel();

    /** False once the engine process has exited. */
    boolean isAlive();

    /** Stops the engine (and closes the channel); waits a bounded time. */
    void destroy();

    /** For logs: pid, port. */
    String describe();

    /** The engine's process id, when it runs in its own process. */
    default OptionalLong pid() {
      return OptionalLong.empty();
    }
  }
}

package io.rolloutfarm.worker.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * Entry point of a {@link SandboxProcess}: starts embedded sandbox servers, prints one line {@code
 * sandbox-port N} per server and a line {@code sandbox-ready}, then serves until standard input
 * closes (its parent went away) or the JVM is told to stop.
 *
 * <p>Arguments: {@code SERVERS CAPACITY WORK_ROOT}.
 */
public final class SandboxProcessMain {
  private SandboxProcessMain() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: SandboxProcessMain SERVERS CAPACITY WORK_ROOT");
      System.exit(2);
    }
    EmbeddedSandboxes sandboxes =
        EmbeddedSandboxes.start(
            Integer.parseInt(args[0]), Integer.parseInt(args[1]), Path.of(args[2]));
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform().name("sandbox-process-shutdown").unstarted(sandboxes::close));
    for (int port : sandboxes.ports()) {
      System.out.println("sandbox-port " + port);
    }
    System.out.println("sandbox-ready");
    System.out.flush();
    InputStream in = System.in;
    while (in.read() >= 0) {
      // Wait for the parent to close our input.
    }
    System.exit(0);
  }
}

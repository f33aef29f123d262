package io.rolloutfarm.worker.sandbox;

import io.rolloutfarm.sandbox.SandboxConfig;
import io.rolloutfarm.sandbox.SandboxServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Sandbox servers in this JVM on ephemeral loopback ports, with a private work root that is deleted
 * on {@link #close()}. Closing them kills every session process they started. (As root each server
 * claims its own block of session uids, so servers never kill each other's sessions.)
 */
public final class EmbeddedSandboxes implements AutoCloseable {
  private final List<SandboxServer> servers;
  private final Path workRoot;
  private final boolean ownsWorkRoot;

  private EmbeddedSandboxes(List<SandboxServer> servers, Path workRoot, boolean ownsWorkRoot) {
    this.servers = List.copyOf(servers);
    this.workRoot = workRoot;
    this.ownsWorkRoot = ownsWorkRoot;
  }

  /** {@code count} servers with {@code capacity} sessions each, in a fresh temporary work root. */
  public static EmbeddedSandboxes start(int count, int capacity) throws IOException {
    Path root = Files.createTempDirectory("rolloutfarm-sandbox-");
    // Per-session uids must be able to enter their folders below the work root.
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
    return start(count, capacity, root, true);
  }

  /** {@code count} servers with {@code capacity} sessions each, below {@code workRoot}. */
  public static EmbeddedSandboxes start(int count, int capacity, Path workRoot) throws IOException {
    return start(count, capacity, workRoot, false);
  }

  private static EmbeddedSandboxes start(int count, int capacity, Path workRoot, boolean owns)
      throws IOException {
    if (count < 1 || capacity < 1) {
      throw new IllegalArgumentException(
          "embedded sandboxes need at least 1 server and capacity 1, got "
              + count
              + " x "
              + capacity);
    }
    List<SandboxServer> started = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        Path root = Files.createDirectories(workRoot.resolve("server-" + i));
        started.add(
            SandboxServer.start(
                SandboxConfig.defaults()
                    .withBindAddress("127.0.0.1")
                    .withPort(0)
                    .withMetricsPort(-1)
                    .withCapacity(capacity)
                    .withWorkRoot(root)));
      }
    } catch (IOException | RuntimeException e) {
      started.forEach(SandboxServer::close);
      if (owns) {
        deleteTree(workRoot);
      }
      throw e;
    }
    return new EmbeddedSandboxes(started, workRoot, owns);
  }

  /** The servers' gRPC ports, in start order. */
  public List<Integer> ports() {
    return servers.stream().map(SandboxServer::port).toList();
  }

  /** The servers as a target list for {@link GrpcSandboxes#connect}. */
  public String targets() {
    return String.join(",", ports().stream().map(p -> "127.0.0.1:" + p).toList());
  }

  /** Drains and stops every server (their session processes die), then deletes the work root. */
  @Override
  public void close() {
    servers.parallelStream().forEach(SandboxServer::close);
    if (ownsWorkRoot) {
      deleteTree(workRoot);
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(EmbeddedSandboxes::deleteQuietly);
    } catch (IOException | UncheckedIOException e) {
      // A temporary folder; the system cleans it eventually.
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // See deleteTree.
    }
  }
}

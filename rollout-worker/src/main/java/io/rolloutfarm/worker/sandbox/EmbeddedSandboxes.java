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
 * on {@link #close()}. Closing them kills every session process they started.
 *
 * <p>As root every session slot runs under its own uid, and ending a session kills every process of
 * that uid. Each set of embedded servers therefore takes a uid range of its own, derived from the
 * process id, so that it never shares uids with a standalone sandbox server (which starts at {@code
 * 20000}) or with embedded servers of other processes on the same machine.
 */
public final class EmbeddedSandboxes implements AutoCloseable {
  /** Session uids of embedded servers start here, far above standalone servers' ranges. */
  static final int UID_BASE = 1_000_000;

  /** Uids one process may use: servers × capacity must fit. */
  static final int UIDS_PER_PROCESS = 4_000;

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
    if ((long) count * capacity > UIDS_PER_PROCESS) {
      throw new IllegalArgumentException(
          "embedded sandboxes hold at most "
              + UIDS_PER_PROCESS
              + " sessions in one process, asked for "
              + count
              + " x "
              + capacity);
    }
    int firstUid = firstSessionUid(ProcessHandle.current().pid());
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
                    .withWorkRoot(root)
                    .withFirstSessionUid(firstUid + i * capacity)));
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

  /** The first session uid of this process's embedded servers. */
  static int firstSessionUid(long pid) {
    return UID_BASE + (int) Math.floorMod(pid, 100_000L) * UIDS_PER_PROCESS;
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

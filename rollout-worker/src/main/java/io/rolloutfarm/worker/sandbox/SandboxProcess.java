package io.rolloutfarm.worker.sandbox;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sandbox servers in a separate JVM, started from this JVM's own java binary and class path. The
 * benchmark uses it so that sandbox CPU is not counted as worker CPU; failure tests use it to kill
 * a real sandbox server process with SIGKILL.
 *
 * <p>The child serves until its standard input closes, so it stops with its parent. Its log goes to
 * {@code WORK_ROOT/sandbox.log}.
 */
public final class SandboxProcess implements AutoCloseable {
  private final Process process;
  private final List<Integer> ports;
  private final Path log;

  private SandboxProcess(Process process, List<Integer> ports, Path log) {
    this.process = process;
    this.ports = List.copyOf(ports);
    this.log = log;
  }

  /**
   * Starts {@code servers} sandbox servers of {@code capacity} sessions each in a new JVM and waits
   * until they listen.
   *
   * @param workRoot folder for the servers' sessions and the log; per-session uids must be able to
   *     enter it
   */
  public static SandboxProcess start(
      int servers, int capacity, Path workRoot, List<String> jvmOptions, Duration startTimeout)
      throws IOException {
    Files.createDirectories(workRoot);
    Path log = workRoot.resolve("sandbox.log");
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(SandboxProcessMain.class.getName());
    command.add(Integer.toString(servers));
    command.add(Integer.toString(capacity));
    command.add(workRoot.toAbsolutePath().toString());
    Process p =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    List<Integer> ports = new ArrayList<>();
    Thread reader =
        Thread.ofPlatform()
            .daemon()
            .name("sandbox-process-stdout")
            .start(
                () -> {
                  try (BufferedReader r =
                      new BufferedReader(
                          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null && !line.equals("sandbox-ready")) {
                      if (line.startsWith("sandbox-port ")) {
                        synchronized (ports) {
                          ports.add(Integer.parseInt(line.substring("sandbox-port ".length())));
                        }
                      }
                    }
                  } catch (IOException e) {
                    // The process died; the caller sees too few ports.
                  }
                });
    try {
      reader.join(startTimeout);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting sandbox servers", e);
    }
    synchronized (ports) {
      if (ports.size() != servers || reader.isAlive()) {
        p.destroyForcibly();
        throw new IOException(
            "sandbox process did not start "
                + servers
                + " server(s) within "
                + startTimeout.toSeconds()
                + " s ("
                + ports.size()
                + " listening); log: "
                + tail(log));
      }
      return new SandboxProcess(p, ports, log);
    }
  }

  /** The servers' gRPC ports. */
  public List<Integer> ports() {
    return ports;
  }

  /** The servers as a target list for {@link GrpcSandboxes#connect}. */
  public String targets() {
    return String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
  }

  /** The JVM's process. */
  public ProcessHandle handle() {
    return process.toHandle();
  }

  /** The child JVM's log. */
  public Path log() {
    return log;
  }

  /**
   * Kills the JVM with SIGKILL, without any shutdown, and waits until it and every process it
   * started (the Python runtime and its sessions) are gone.
   *
   * @return whether everything was gone within {@code timeout}
   */
  public boolean kill(Duration timeout) throws InterruptedException {
    List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
    process.destroyForcibly();
    long deadline = System.nanoTime() + timeout.toNanos();
    process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    for (ProcessHandle h : family) {
      while (h.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    }
    return !process.isAlive() && family.stream().noneMatch(ProcessHandle::isAlive);
  }

  /** Stops the servers gracefully (closing their input), then forcibly if they linger. */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // Already gone.
    }
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}

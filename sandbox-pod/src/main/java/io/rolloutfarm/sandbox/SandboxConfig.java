package io.rolloutfarm.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything a sandbox server can be told: where it listens, how many sessions it holds and every
 * per-session limit. Start from {@link #defaults()} and change fields with the {@code withX}
 * copies.
 *
 * @param bindAddress address the gRPC server listens on ({@code 127.0.0.1} embedded)
 * @param port gRPC port; 0 picks a free one
 * @param metricsPort Prometheus {@code /metrics} port; 0 picks a free one, -1 serves none
 * @param capacity maximum concurrently open sessions
 * @param workRoot folder holding the per-session working directories and the control socket
 * @param python interpreter for the runtime
 * @param defaultExecTimeout wall-clock limit of an execution that asks for none
 * @param maxExecTimeout upper bound on what an execution may ask for
 * @param interruptGrace time the code gets to stop after the interrupt before it is killed
 * @param idleTtl sessions idle this long are closed
 * @param openTimeout limit on forking, connecting and decoding the media of a new session
 * @param drainTimeout how long {@link SandboxServer#close()} waits for running executions
 * @param cpuSeconds CPU seconds per session (RLIMIT_CPU)
 * @param memoryBytes address space per session process (RLIMIT_AS)
 * @param maxProcesses processes and threads (RLIMIT_NPROC; per session when sessions get their own
 *     uid, otherwise shared by every process of the server's uid)
 * @param maxOpenFiles open files per process (RLIMIT_NOFILE)
 * @param maxFileBytes largest file a session may write (RLIMIT_FSIZE)
 * @param diskQuotaBytes total size of a session's working directory
 * @param maxStdoutChars stdout kept per execution; the rest is replaced by a marker
 * @param maxStderrChars stderr kept per execution; the rest is replaced by a marker
 * @param maxImages images returned per execution; more are counted in {@code images_dropped}
 * @param maxImagePixels pixels per returned image; larger figures are scaled down
 * @param maxInputPixels pixels per input image
 * @param maxMediaBytes total encoded media bytes of one OpenSession
 * @param landlock restrict sessions with Landlock when the kernel has it
 * @param seccomp restrict sessions' system calls with seccomp when python3-seccomp is installed
 * @param uidPerSession when running as root, give every session slot its own uid
 * @param firstSessionUid uid of slot 0 when {@code uidPerSession} applies
 */
public record SandboxConfig(
    String bindAddress,
    int port,
    int metricsPort,
    int capacity,
    Path workRoot,
    String python,
    Duration defaultExecTimeout,
    Duration maxExecTimeout,
    Duration interruptGrace,
    Duration idleTtl,
    Duration openTimeout,
    Duration drainTimeout,
    int cpuSeconds,
    long memoryBytes,
    int maxProcesses,
    int maxOpenFiles,
    long maxFileBytes,
    long diskQuotaBytes,
    int maxStdoutChars,
    int maxStderrChars,
    int maxImages,
    long maxImagePixels,
    long maxInputPixels,
    long maxMediaBytes,
    boolean landlock,
    boolean seccomp,
    boolean uidPerSession,
    int firstSessionUid) {

  private static final long MIB = 1024L * 1024L;

  public SandboxConfig {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, got " + port);
    }
    if (metricsPort < -1 || metricsPort > 65535) {
      throw new IllegalArgumentException(
          "metricsPort must be -1 or in 0..65535, got " + metricsPort);
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    requirePositive("defaultExecTimeout", defaultExecTimeout);
    requirePositive("maxExecTimeout", maxExecTimeout);
    requirePositive("interruptGrace", interruptGrace);
    requirePositive("idleTtl", idleTtl);
    requirePositive("openTimeout", openTimeout);
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("drainTimeout must not be negative");
    }
    if (cpuSeconds < 1
        || memoryBytes < 64 * MIB
        || maxProcesses < 1
        || maxOpenFiles < 16
        || maxFileBytes < 1
        || diskQuotaBytes < 1
        || maxStdoutChars < 1
        || maxStderrChars < 1
        || maxImages < 0
        || maxImagePixels < 1
        || maxInputPixels < 1
        || maxMediaBytes < 1) {
      throw new IllegalArgumentException(
          "limits out of range: cpuSeconds>=1, memoryBytes>=64MiB, maxProcesses>=1,"
              + " maxOpenFiles>=16, maxImages>=0, every other limit >= 1: "
              + this);
    }
  }

  private static void requirePositive(String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
  }

  /** Sane defaults: loopback, ephemeral port, no metrics, 16 sessions. */
  public static SandboxConfig defaults() {
    return new SandboxConfig(
        "127.0.0.1",
        0,
        -1,
        16,
        defaultWorkRoot(),
        io.rolloutfarm.proto.PythonPaths.interpreter(),
        Duration.ofSeconds(30),
        Duration.ofSeconds(300),
        Duration.ofSeconds(2),
        Duration.ofMinutes(15),
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        600,
        4096 * MIB,
        256,
        256,
        256 * MIB,
        512 * MIB,
        64 * 1024,
        64 * 1024,
        16,
        4_000_000,
        50_000_000,
        128 * MIB,
        true,
        true,
        true,
        20000);
  }

  /** {@code $HOME/sandboxes} when HOME is writable (the pod's emptyDir), else a temp folder. */
  static Path defaultWorkRoot() {
    String home = System.getenv("HOME");
    if (home != null && !home.isBlank() && Files.isWritable(Path.of(home))) {
      return Path.of(home, "sandboxes");
    }
    return Path.of(System.getProperty("java.io.tmpdir"), "rolloutfarm-sandboxes");
  }

  public SandboxConfig withBindAddress(String v) {
    return new SandboxConfig(
        v,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withPort(int v) {
    return new SandboxConfig(
        bindAddress,
        v,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMetricsPort(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        v,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withCapacity(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        v,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withWorkRoot(Path v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        v,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withPython(String v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        v,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withDefaultExecTimeout(Duration v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        v,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxExecTimeout(Duration v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        v,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withInterruptGrace(Duration v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        v,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withIdleTtl(Duration v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        v,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withOpenTimeout(Duration v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        v,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withDrainTimeout(Duration v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        v,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withCpuSeconds(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        v,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMemoryBytes(long v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        v,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxProcesses(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        v,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxOpenFiles(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        v,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxFileBytes(long v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        v,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withDiskQuotaBytes(long v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        v,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxStdoutChars(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        v,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxStderrChars(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        v,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxImages(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        v,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxImagePixels(long v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        v,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxInputPixels(long v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        v,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withMaxMediaBytes(long v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        v,
        landlock,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withLandlock(boolean v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        v,
        seccomp,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withSeccomp(boolean v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        v,
        uidPerSession,
        firstSessionUid);
  }

  public SandboxConfig withUidPerSession(boolean v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        v,
        firstSessionUid);
  }

  public SandboxConfig withFirstSessionUid(int v) {
    return new SandboxConfig(
        bindAddress,
        port,
        metricsPort,
        capacity,
        workRoot,
        python,
        defaultExecTimeout,
        maxExecTimeout,
        interruptGrace,
        idleTtl,
        openTimeout,
        drainTimeout,
        cpuSeconds,
        memoryBytes,
        maxProcesses,
        maxOpenFiles,
        maxFileBytes,
        diskQuotaBytes,
        maxStdoutChars,
        maxStderrChars,
        maxImages,
        maxImagePixels,
        maxInputPixels,
        maxMediaBytes,
        landlock,
        seccomp,
        uidPerSession,
        v);
  }
}

package io.rolloutfarm.cli.sandbox;

import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.sandbox.SandboxConfig;
import io.rolloutfarm.sandbox.SandboxServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code farm sandbox}: a standalone sandbox server. */
@Command(
    name = "sandbox",
    mixinStandardHelpOptions = true,
    header = "Run a sandbox server: isolated, persistent Python sessions over gRPC.",
    description = {
      "Runs a sandbox server: isolated, persistent Python sessions over gRPC (SandboxService),",
      "the standard gRPC health service and, with --metrics-port, Prometheus metrics.",
      "Stops on SIGTERM/Ctrl-C: drains running executions, then kills every session."
    })
public final class SandboxCommand implements Callable<Integer> {
  private static final long MIB = 1024L * 1024L;

  @Spec CommandSpec spec;

  @Option(
      names = "--port",
      defaultValue = "50051",
      description = "gRPC port (default: ${DEFAULT-VALUE}; 0 picks one).")
  int port;

  @Option(
      names = "--capacity",
      defaultValue = "16",
      description = "Maximum open sessions (default: ${DEFAULT-VALUE}).")
  int capacity;

  @Option(
      names = "--warm-sessions",
      defaultValue = "2",
      description =
          "Runtimes kept forked and locked down ahead of OpenSession (default: ${DEFAULT-VALUE}).")
  int warmSessions;

  @Option(
      names = "--metrics-port",
      defaultValue = "-1",
      description = "Serve Prometheus metrics at /metrics on this port (default: off).")
  int metricsPort;

  @Option(
      names = "--bind",
      defaultValue = "0.0.0.0",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--work-dir",
      description =
          "Folder for session working directories (default: $HOME/sandboxes when HOME is writable, else a temp folder).")
  Path workDir;

  @Option(
      names = "--exec-timeout-ms",
      defaultValue = "30000",
      description =
          "Wall-clock limit of an execution that asks for none (default: ${DEFAULT-VALUE}).")
  long execTimeoutMs;

  @Option(
      names = "--max-exec-timeout-ms",
      defaultValue = "300000",
      description = "Upper bound on what an execution may ask for (default: ${DEFAULT-VALUE}).")
  long maxExecTimeoutMs;

  @Option(
      names = "--interrupt-grace-ms",
      defaultValue = "2000",
      description =
          "Time code gets after the interrupt before the session is killed (default: ${DEFAULT-VALUE}).")
  long interruptGraceMs;

  @Option(
      names = "--idle-ttl-s",
      defaultValue = "900",
      description = "Close sessions idle this long (default: ${DEFAULT-VALUE}).")
  long idleTtlS;

  @Option(
      names = "--drain-timeout-s",
      defaultValue = "30",
      description =
          "On shutdown, how long running executions may finish (default: ${DEFAULT-VALUE}).")
  long drainTimeoutS;

  @Option(
      names = "--cpu-seconds",
      defaultValue = "600",
      description = "CPU seconds per session (default: ${DEFAULT-VALUE}).")
  int cpuSeconds;

  @Option(
      names = "--memory-mb",
      defaultValue = "4096",
      description = "Address space per session process in MiB (default: ${DEFAULT-VALUE}).")
  long memoryMb;

  @Option(
      names = "--max-processes",
      defaultValue = "256",
      description = "Processes+threads per session (default: ${DEFAULT-VALUE}).")
  int maxProcesses;

  @Option(
      names = "--max-open-files",
      defaultValue = "256",
      description = "Open files per session process (default: ${DEFAULT-VALUE}).")
  int maxOpenFiles;

  @Option(
      names = "--max-file-mb",
      defaultValue = "256",
      description = "Largest file a session may write, MiB (default: ${DEFAULT-VALUE}).")
  long maxFileMb;

  @Option(
      names = "--disk-quota-mb",
      defaultValue = "512",
      description = "Working directory quota per session, MiB (default: ${DEFAULT-VALUE}).")
  long diskQuotaMb;

  @Option(
      names = "--max-output-chars",
      defaultValue = "65536",
      description = "stdout and stderr kept per execution (default: ${DEFAULT-VALUE}).")
  int maxOutputChars;

  @Option(
      names = "--max-images",
      defaultValue = "16",
      description = "Images returned per execution (default: ${DEFAULT-VALUE}).")
  int maxImages;

  @Option(
      names = "--max-image-pixels",
      defaultValue = "4000000",
      description = "Pixels per returned image (default: ${DEFAULT-VALUE}).")
  long maxImagePixels;

  @Option(
      names = "--max-input-pixels",
      defaultValue = "50000000",
      description = "Pixels per input image (default: ${DEFAULT-VALUE}).")
  long maxInputPixels;

  @Option(
      names = "--max-media-mb",
      defaultValue = "128",
      description = "Encoded media per OpenSession, MiB (default: ${DEFAULT-VALUE}).")
  long maxMediaMb;

  @Option(
      names = "--open-timeout-ms",
      defaultValue = "30000",
      description =
          "Limit on starting a session and decoding its media (default: ${DEFAULT-VALUE}).")
  long openTimeoutMs;

  @Option(names = "--no-landlock", description = "Do not restrict sessions with Landlock.")
  boolean noLandlock;

  @Option(names = "--no-seccomp", description = "Do not restrict sessions with seccomp.")
  boolean noSeccomp;

  @Option(
      names = "--shared-uid",
      description =
          "As root, run every session under the server's uid instead of one uid per session.")
  boolean sharedUid;

  @Override
  public Integer call() throws Exception {
    SandboxConfig config;
    try {
      config =
          SandboxConfig.defaults()
              .withBindAddress(bind)
              .withPort(port)
              .withMetricsPort(metricsPort)
              .withCapacity(capacity)
              .withWarmSessions(warmSessions)
              .withDefaultExecTimeout(Duration.ofMillis(execTimeoutMs))
              .withMaxExecTimeout(Duration.ofMillis(maxExecTimeoutMs))
              .withInterruptGrace(Duration.ofMillis(interruptGraceMs))
              .withIdleTtl(Duration.ofSeconds(idleTtlS))
              .withDrainTimeout(Duration.ofSeconds(drainTimeoutS))
              .withCpuSeconds(cpuSeconds)
              .withMemoryBytes(memoryMb * MIB)
              .withMaxProcesses(maxProcesses)
              .withMaxOpenFiles(maxOpenFiles)
              .withMaxFileBytes(maxFileMb * MIB)
              .withDiskQuotaBytes(diskQuotaMb * MIB)
              .withMaxStdoutChars(maxOutputChars)
              .withMaxStderrChars(maxOutputChars)
              .withMaxImages(maxImages)
              .withMaxImagePixels(maxImagePixels)
              .withMaxInputPixels(maxInputPixels)
              .withMaxMediaBytes(maxMediaMb * MIB)
              .withOpenTimeout(Duration.ofMillis(openTimeoutMs))
              .withLandlock(!noLandlock)
              .withSeccomp(!noSeccomp)
              .withUidPerSession(!sharedUid);
      if (workDir != null) {
        config = config.withWorkRoot(workDir);
      }
    } catch (IllegalArgumentException e) {
      throw new UserError("farm sandbox: " + e.getMessage());
    }
    SandboxServer server = SandboxServer.start(config);
    Runtime.getRuntime()
        .addShutdownHook(Thread.ofPlatform().name("sandbox-shutdown").unstarted(server::close));
    spec.commandLine()
        .getErr()
        .printf(
            "farm sandbox: listening on %s:%d (capacity %d%s); protections: %s%n",
            bind,
            server.port(),
            capacity,
            server.metricsPort() >= 0 ? ", metrics on :" + server.metricsPort() : "",
            server.protections().describe());
    server.awaitTermination();
    return 0;
  }
}

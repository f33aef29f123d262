package io.rolloutfarm.learner.engine;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.proto.PythonPaths;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * Starts the PyTorch engine as {@code python3 -m rolloutfarm_engine --listen 127.0.0.1:0 --model M
 * --seed N --device D --exit-with-parent --threads T}, waits for its {@code ENGINE_PORT <port>}
 * line and connects. The engine's further output goes to {@code logFile}.
 */
public final class PythonEngineLauncher implements EngineLauncher {
  private static final Logger LOG = Logger.getLogger(PythonEngineLauncher.class.getName());
  private static final int MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

  private final EngineCommand command;
  private final Path logFile;
  private final Duration startupTimeout;

  /**
   * What to start.
   *
   * @param model {@code builtin[:JSON]} or a weights path
   * @param device {@code auto}, {@code cpu} or {@code cuda}
   * @param threads CPU threads for torch (0: the engine decides)
   */
  public record EngineCommand(String model, long seed, String device, int threads) {
    List<String> argv() {
      List<String> argv = new ArrayList<>();
      argv.add(PythonPaths.interpreter());
      argv.add("-m");
      argv.add("rolloutfarm_engine");
      argv.add("--listen");
      argv.add("127.0.0.1:0");
      argv.add("--model");
      argv.add(model);
      argv.add("--seed");
      argv.add(Long.toString(seed));
      argv.add("--device");
      argv.add(device);
      // A learner killed without its shutdown (SIGKILL, OOM) must not leave the engine running.
      argv.add("--exit-with-parent");
      if (threads > 0) {
        argv.add("--threads");
        argv.add(Integer.toString(threads));
      }
      return argv;
    }
  }

  public PythonEngineLauncher(EngineCommand command, Path logFile, Duration startupTimeout) {
    this.command = command;
    this.logFile = logFile;
    this.startupTimeout = startupTimeout;
  }

  @Override
  public LaunchedEngine launch(int incarnation) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command.argv());
    String pythonPath =
        PythonPaths.protoPythonDir()
            + java.io.File.pathSeparator
            + PythonPaths.sourceDir("learner");
    pb.environment().put("PYTHONPATH", pythonPath);
    pb.environment().put("ROLLOUTFARM_DESCRIPTOR_SET", PythonPaths.descriptorSet().toString());
    pb.environment().put("PYTHONUNBUFFERED", "1");
    // The engine outlives a terminal's Ctrl-C so that the learner can still checkpoint.
    pb.environment().put("ROLLOUTFARM_ENGINE_SUPERVISED", "1");
    pb.redirectErrorStream(true);
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    Process process = pb.start();
    OutputStream log =
        Files.newOutputStream(
            logFile,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND);
    log.write(
        ("---- engine incarnation "
                + incarnation
                + " pid "
                + process.pid()
                + ": "
                + String.join(" ", command.argv())
                + "\n")
            .getBytes(StandardCharsets.UTF_8));
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread pump =
        Thread.ofPlatform()
            .daemon()
            .name("engine-output-" + process.pid())
            .start(() -> pumpOutput(process.getInputStream(), log, port));
    int boundPort;
    try {
      boundPort = port.get(startupTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException | InterruptedException e) {
      kill(process);
      pump.interrupt();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException(
          "engine did not report its port within "
              + startupTimeout.toSeconds()
              + "s (command: "
              + String.join(" ", command.argv())
              + "); see "
              + logFile
              + (e instanceof ExecutionException ee ? ": " + ee.getCause().getMessage() : ""),
          e);
    }
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", boundPort)
            .usePlaintext()
            .maxInboundMessageSize(MAX_MESSAGE_BYTES)
            .build();
    LOG.info("engine pid " + process.pid() + " listening on 127.0.0.1:" + boundPort);
    return new Running(process, channel, boundPort);
  }

  private static void pumpOutput(
      InputStream in, OutputStream log, CompletableFuture<Integer> port) {
    try (BufferedReader reader =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        log) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (!port.isDone()) {
          if (line.startsWith("ENGINE_PORT ")) {
            try {
              port.complete(Integer.parseInt(line.substring("ENGINE_PORT ".length()).strip()));
              continue;
            } catch (NumberFormatException e) {
              port.completeExceptionally(new IOException("bad port line: " + line));
            }
          }
        }
        log.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        log.flush();
      }
      port.completeExceptionally(new IOException("engine exited before reporting its port"));
    } catch (IOException e) {
      port.completeExceptionally(e);
    }
  }

  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private record Running(Process process, ManagedChannel channel, int port)
      implements LaunchedEngine {
    @Override
    public boolean isAlive() {
      return process.isAlive();
    }

    @Override
    public void destroy() {
      channel.shutdownNow();
      kill(process);
    }

    @Override
    public String describe() {
      return "pid " + process.pid() + " on 127.0.0.1:" + port;
    }

    @Override
    public OptionalLong pid() {
      return OptionalLong.of(process.pid());
    }
  }
}

package io.rolloutfarm.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rolloutfarm.proto.PythonPaths;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The warm Python fork server ({@code python3 -m rolloutfarm_sandbox}). It has numpy, PIL, OpenCV
 * and matplotlib imported; forking a session from it costs a few milliseconds. Requests and replies
 * are JSON lines over its stdin/stdout; its stderr goes to this JVM's stderr.
 */
final class Zygote implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Zygote.class.getName());

  /** A session process ended: exit code or terminating signal (one of them is null). */
  record Exit(long pid, String sessionId, Integer code, Integer signal) {}

  private final Process process;
  private final OutputStream stdin;
  private final Map<Long, CompletableFuture<JsonNode>> replies = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final CompletableFuture<JsonNode> ready = new CompletableFuture<>();
  private final Consumer<Exit> onExit;
  private final Runnable onDeath;
  private volatile boolean closing;

  private Zygote(Process process, Consumer<Exit> onExit, Runnable onDeath) {
    this.process = process;
    this.stdin = process.getOutputStream();
    this.onExit = onExit;
    this.onDeath = onDeath;
    Thread.ofPlatform().daemon().name("sandbox-zygote-events").start(this::readEvents);
  }

  /** Starts the fork server and waits until it has warmed up. */
  static Zygote start(
      SandboxConfig config, Duration timeout, Consumer<Exit> onExit, Runnable onDeath)
      throws IOException {
    List<String> argv =
        new ArrayList<>(
            List.of(
                config.python(),
                "-m",
                "rolloutfarm_sandbox",
                "--work-root",
                config.workRoot().toAbsolutePath().toString()));
    if (!config.landlock()) {
      argv.add("--no-landlock");
    }
    if (!config.seccomp()) {
      argv.add("--no-seccomp");
    }
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().put("PYTHONPATH", PythonPaths.sourceDir("sandbox-pod").toString());
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    pb.environment().put("MPLBACKEND", "Agg");
    pb.environment()
        .put("MPLCONFIGDIR", config.workRoot().resolve("matplotlib").toAbsolutePath().toString());
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    // Not the server's working directory: nothing of it should be reachable from sessions.
    pb.directory(new java.io.File("/"));
    Process process = pb.start();
    Zygote zygote = new Zygote(process, onExit, onDeath);
    try {
      zygote.ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException | InterruptedException e) {
      zygote.close();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException(
          "the sandbox runtime ("
              + String.join(" ", argv)
              + ") did not start within "
              + timeout.toSeconds()
              + "s; is "
              + config.python()
              + " a Python 3 with numpy, pillow, opencv and matplotlib? (set ROLLOUTFARM_PYTHON)"
              + (e instanceof ExecutionException ee ? ": " + ee.getCause().getMessage() : ""),
          e);
    }
    return zygote;
  }

  /** What the runtime reported about the protections it can apply. */
  JsonNode protections() {
    return ready.join().path("protections");
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Forks a session process; completes with its pid. */
  CompletableFuture<Long> fork(ObjectNode request) {
    return call("fork", request).thenApply(r -> r.path("pid").asLong());
  }

  /**
   * Interrupts a session's execution (no reply): its subprocesses are killed and the session
   * process gets SIGINT, which raises KeyboardInterrupt in the running code.
   */
  void interrupt(long pid) {
    ObjectNode request = Frames.JSON.createObjectNode();
    request.put("op", "interrupt").put("pid", pid);
    try {
      write(request);
    } catch (IOException e) {
      LOG.fine("interrupt of " + pid + " not sent: " + e);
    }
  }

  /**
   * Kills a session's whole process tree (and, with a per-session uid, every process of that uid),
   * then removes its working directory.
   */
  CompletableFuture<Void> kill(long pid, Integer uid, String workdir) {
    ObjectNode request = Frames.JSON.createObjectNode();
    request.put("pid", pid).put("workdir", workdir);
    if (uid != null) {
      request.put("uid", uid);
    }
    return call("kill", request).thenApply(r -> null);
  }

  private CompletableFuture<JsonNode> call(String op, ObjectNode request) {
    long id = ids.incrementAndGet();
    request.put("op", op).put("id", id);
    CompletableFuture<JsonNode> reply = new CompletableFuture<>();
    replies.put(id, reply);
    try {
      write(request);
    } catch (IOException e) {
      replies.remove(id);
      reply.completeExceptionally(new IOException("sandbox runtime is gone: " + e.getMessage()));
    }
    return reply;
  }

  private void write(ObjectNode request) throws IOException {
    byte[] line = (Frames.JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8);
    synchronized (stdin) {
      stdin.write(line);
      stdin.flush();
    }
  }

  private void readEvents() {
    try (BufferedReader reader =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        JsonNode message;
        try {
          message = Frames.JSON.readTree(line);
        } catch (IOException e) {
          LOG.warning("sandbox runtime wrote a line that is not JSON: " + line);
          continue;
        }
        String event = message.path("event").asText("");
        if (event.equals("ready")) {
          ready.complete(message);
        } else if (event.equals("exit")) {
          onExit.accept(
              new Exit(
                  message.path("pid").asLong(),
                  message.path("sid").asText(),
                  message.path("code").isNumber() ? message.path("code").asInt() : null,
                  message.path("signal").isNumber() ? message.path("signal").asInt() : null));
        } else if (message.has("id")) {
          CompletableFuture<JsonNode> reply = replies.remove(message.path("id").asLong());
          if (reply != null) {
            if (message.has("error")) {
              reply.completeExceptionally(new IOException(message.path("error").asText()));
            } else {
              reply.complete(message);
            }
          }
        }
      }
    } catch (IOException e) {
      LOG.log(Level.FINE, "sandbox runtime output closed", e);
    }
    IOException gone = new IOException("the sandbox runtime process exited");
    ready.completeExceptionally(gone);
    replies.values().forEach(r -> r.completeExceptionally(gone));
    replies.clear();
    if (!closing) {
      LOG.severe("the sandbox runtime (pid " + process.pid() + ") died");
      onDeath.run();
    }
  }

  /** Stops the fork server; it kills every session it started before it exits. */
  @Override
  public void close() {
    closing = true;
    try {
      stdin.close();
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}

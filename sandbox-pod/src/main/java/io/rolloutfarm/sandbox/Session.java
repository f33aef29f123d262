package io.rolloutfarm.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.Image;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/** One open session: a forked runtime process, its channel and its working directory. */
final class Session {
  private static final long DISK_CHECK_MILLIS = 500;

  final String id;
  final String label;
  final long pid;
  final Integer uid;
  final int slot;
  final Path workdir;
  private final ControlSocket.Connection connection;
  private final SandboxConfig config;
  private final Zygote zygote;
  private final ScheduledExecutorService timer;
  private final Consumer<Session> onEnded;
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicBoolean ended = new AtomicBoolean();
  private final CompletableFuture<Zygote.Exit> exit = new CompletableFuture<>();
  private final CompletableFuture<Void> cleaned = new CompletableFuture<>();
  private volatile boolean busy;
  private volatile long lastUsedNanos = System.nanoTime();
  private volatile KillReason endReason;

  Session(
      String id,
      String label,
      long pid,
      Integer uid,
      int slot,
      Path workdir,
      ControlSocket.Connection connection,
      SandboxConfig config,
      Zygote zygote,
      ScheduledExecutorService timer,
      Consumer<Session> onEnded) {
    this.id = id;
    this.label = label;
    this.pid = pid;
    this.uid = uid;
    this.slot = slot;
    this.workdir = workdir;
    this.connection = connection;
    this.config = config;
    this.zygote = zygote;
    this.timer = timer;
    this.onEnded = onEnded;
  }

  boolean isBusy() {
    return busy;
  }

  boolean isEnded() {
    return ended.get();
  }

  long idleNanos() {
    return busy ? 0 : System.nanoTime() - lastUsedNanos;
  }

  KillReason endReason() {
    return endReason;
  }

  /** The runtime reported that the process exited. */
  void exited(Zygote.Exit e) {
    exit.complete(e);
  }

  /** Completes when the process tree is gone and the working directory removed. */
  CompletableFuture<Void> cleaned() {
    return cleaned;
  }

  /** Runs code; a session runs one execution at a time. */
  ExecuteResponse execute(String code, Duration timeout) {
    if (!lock.tryLock()) {
      throw Status.FAILED_PRECONDITION
          .withDescription("session " + id + " is already executing; wait for that call")
          .asRuntimeException();
    }
    busy = true;
    long started = System.nanoTime();
    try {
      if (ended.get()) {
        throw notFound();
      }
      ObjectNode request = Frames.JSON.createObjectNode();
      request.put("op", "exec").put("code", code);
      AtomicBoolean interrupted = new AtomicBoolean();
      AtomicBoolean timeoutKill = new AtomicBoolean();
      ScheduledFuture<?> interrupt =
          timer.schedule(
              () -> {
                interrupted.set(true);
                zygote.interrupt(pid);
              },
              timeout.toNanos(),
              TimeUnit.NANOSECONDS);
      ScheduledFuture<?> kill =
          timer.schedule(
              () -> {
                timeoutKill.set(true);
                end(KillReason.TIMEOUT);
              },
              timeout.plus(config.interruptGrace()).toNanos(),
              TimeUnit.NANOSECONDS);
      // Files written during a long execution count too, not only what is left at its end.
      ScheduledFuture<?> diskWatch =
          timer.scheduleWithFixedDelay(
              () -> {
                if (diskUsage() > config.diskQuotaBytes()) {
                  end(KillReason.DISK_QUOTA);
                }
              },
              DISK_CHECK_MILLIS,
              DISK_CHECK_MILLIS,
              TimeUnit.MILLISECONDS);
      Frames.Message reply;
      try {
        Frames.send(connection.channel(), request, List.of());
        reply = Frames.receive(connection.in());
      } catch (IOException e) {
        interrupt.cancel(false);
        kill.cancel(false);
        diskWatch.cancel(false);
        return died(started, timeoutKill.get(), timeout, e);
      }
      interrupt.cancel(false);
      kill.cancel(false);
      diskWatch.cancel(false);
      if (timeoutKill.get()) {
        return died(started, true, timeout, null);
      }
      if (ended.get()) {
        return died(started, false, timeout, null);
      }
      ExecuteResponse.Builder response = fromReply(reply);
      if (interrupted.get() || reply.header().path("status").asText().equals("interrupted")) {
        response
            .setStatus(ExecStatus.EXEC_STATUS_TIMEOUT)
            .setError(
                "wall-clock timeout of "
                    + timeout.toMillis()
                    + " ms: the code was interrupted (KeyboardInterrupt); the session keeps its"
                    + " state");
      }
      long used = diskUsage();
      if (used > config.diskQuotaBytes()) {
        end(KillReason.DISK_QUOTA);
        awaitCleanup();
        return response
            .setStatus(ExecStatus.EXEC_STATUS_KILLED)
            .setError(
                "disk quota exceeded: the working directory holds "
                    + used
                    + " bytes, the quota is "
                    + config.diskQuotaBytes()
                    + "; the session was closed")
            .setSessionAlive(false)
            .setDurationMicros(micros(started))
            .build();
      }
      return response.setSessionAlive(true).setDurationMicros(micros(started)).build();
    } finally {
      lastUsedNanos = System.nanoTime();
      busy = false;
      lock.unlock();
    }
  }

  private ExecuteResponse.Builder fromReply(Frames.Message reply) {
    JsonNode h = reply.header();
    ExecuteResponse.Builder b =
        ExecuteResponse.newBuilder()
            .setStdout(h.path("stdout").asText(""))
            .setStderr(h.path("stderr").asText(""))
            .setError(h.path("error").asText(""))
            .setImagesDropped(h.path("dropped").asInt(0));
    b.setStatus(
        switch (h.path("status").asText("")) {
          case "ok" -> ExecStatus.EXEC_STATUS_OK;
          case "interrupted" -> ExecStatus.EXEC_STATUS_TIMEOUT;
          default -> ExecStatus.EXEC_STATUS_ERROR;
        });
    JsonNode sizes = h.path("sizes");
    for (int i = 0; i < reply.blobs().size(); i++) {
      JsonNode size = sizes.path(i);
      b.addImages(
          Image.newBuilder()
              .setPng(ByteString.copyFrom(reply.blobs().get(i)))
              .setWidth(size.path(0).asInt(0))
              .setHeight(size.path(1).asInt(0)));
    }
    return b;
  }

  /** The process went away during an execution: say why, clean up. */
  private ExecuteResponse died(long started, boolean timedOut, Duration timeout, IOException e) {
    KillReason reason;
    String error;
    if (timedOut) {
      reason = KillReason.TIMEOUT;
      error =
          "wall-clock timeout of "
              + timeout.toMillis()
              + " ms: the code ignored the interrupt for "
              + config.interruptGrace().toMillis()
              + " ms and the session was killed";
    } else if (endReason == KillReason.DISK_QUOTA) {
      reason = endReason;
      error =
          "disk quota exceeded: the working directory outgrew "
              + config.diskQuotaBytes()
              + " bytes; the session was closed";
    } else if (endReason != null) {
      reason = endReason;
      error = "the session was ended while executing (" + endReason.label + ")";
    } else {
      Zygote.Exit how = awaitExit();
      reason = how != null && how.signal() != null && how.signal() == 24 ? KillReason.CPU : null;
      if (e != null && !(e instanceof Frames.SessionGoneException)) {
        reason = KillReason.PROTOCOL;
      }
      error = describeExit(how, e);
      if (reason == null) {
        reason = KillReason.DIED;
      }
    }
    end(reason);
    awaitCleanup();
    return ExecuteResponse.newBuilder()
        .setStatus(timedOut ? ExecStatus.EXEC_STATUS_TIMEOUT : ExecStatus.EXEC_STATUS_KILLED)
        .setError(error)
        .setSessionAlive(false)
        .setDurationMicros(micros(started))
        .build();
  }

  private String describeExit(Zygote.Exit how, IOException e) {
    if (e != null && !(e instanceof Frames.SessionGoneException)) {
      return "the session broke the protocol (" + e.getMessage() + ") and was killed";
    }
    if (how == null) {
      return "the session process disappeared";
    }
    if (how.signal() != null) {
      return switch (how.signal()) {
        case 24 ->
            "CPU time limit exceeded ("
                + config.cpuSeconds()
                + " s per session): the session was killed";
        case 9 ->
            "the session process was killed (SIGKILL): a resource limit (CPU hard limit or"
                + " memory) was exceeded";
        case 11 -> "the session process crashed: SIGSEGV (segmentation fault)";
        case 6 -> "the session process aborted (SIGABRT)";
        case 7 -> "the session process crashed: SIGBUS";
        case 25 -> "file size limit exceeded (SIGXFSZ)";
        default -> "the session process died from signal " + how.signal();
      };
    }
    return "the session process exited with code " + how.code();
  }

  private Zygote.Exit awaitExit() {
    try {
      return exit.get(2, TimeUnit.SECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private void awaitCleanup() {
    try {
      cleaned.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Ends the session (idempotent): kills its process tree, removes its working directory, frees its
   * slot. Returns when that is done or was already done.
   */
  CompletableFuture<Void> end(KillReason reason) {
    if (!ended.compareAndSet(false, true)) {
      return cleaned;
    }
    endReason = reason;
    connection.closeQuietly();
    zygote
        .kill(pid, uid, workdir.toString())
        .whenComplete(
            (ok, failure) -> {
              if (failure != null) {
                // The runtime is gone (and with it its sessions): remove the files ourselves.
                deleteQuietly(workdir);
              }
              onEnded.accept(this);
              cleaned.complete(null);
            });
    return cleaned;
  }

  io.grpc.StatusRuntimeException notFound() {
    KillReason r = endReason;
    return Status.NOT_FOUND
        .withDescription(
            "session "
                + id
                + " no longer exists"
                + (r == null ? "" : " (ended: " + r.label + ")")
                + "; open a new session")
        .asRuntimeException();
  }

  private long diskUsage() {
    long[] total = {0};
    try {
      Files.walkFileTree(
          workdir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              total[0] += attrs.size();
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException | UncheckedIOException e) {
      return total[0];
    }
    return total[0];
  }

  static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths
          .sorted(java.util.Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // best effort
                }
              });
    } catch (IOException | UncheckedIOException e) {
      // best effort
    }
  }

  private static long micros(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1000;
  }
}

package io.rolloutfarm.sandbox;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.OpenSessionRequest;
import io.rolloutfarm.proto.v1.SandboxStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/** The open sessions of one server: opening, lookup, capacity, idle reaping and ending. */
final class SessionRegistry {
  private static final Logger LOG = Logger.getLogger(SessionRegistry.class.getName());
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Set<String> KEYWORDS =
      Set.of(
          "False",
          "None",
          "True",
          "and",
          "as",
          "assert",
          "async",
          "await",
          "break",
          "class",
          "continue",
          "def",
          "del",
          "elif",
          "else",
          "except",
          "finally",
          "for",
          "from",
          "global",
          "if",
          "import",
          "in",
          "is",
          "lambda",
          "nonlocal",
          "not",
          "or",
          "pass",
          "raise",
          "return",
          "try",
          "while",
          "with",
          "yield");
  private static final Set<String> MIME_TYPES = Set.of("image/png", "image/jpeg", "video/mp4");

  private final SandboxConfig config;
  private volatile Zygote zygote;
  private final ControlSocket control;
  private final ScheduledExecutorService timer;
  private final Path sessionsRoot;
  private final boolean uidPerSession;
  private final int firstUid;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final Map<Long, Session> byPid = new ConcurrentHashMap<>();

  /** Recently ended ids, so that late calls get a precise answer; bounded. */
  private final Set<String> ended =
      java.util.Collections.newSetFromMap(
          java.util.Collections.synchronizedMap(
              new java.util.LinkedHashMap<>(1024, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > 100_000;
                }
              }));

  private final BitSet slots;
  private final int slotCount;
  private final int slotRange;
  private int nextSlot;
  private final java.util.concurrent.atomic.AtomicInteger reserved =
      new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.ConcurrentLinkedQueue<Prepared> spares =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.util.concurrent.ExecutorService refiller;
  private final AtomicLong executions = new AtomicLong();
  private final SecureRandom random = new SecureRandom();
  private SandboxMetrics metrics;
  private volatile boolean draining;

  SessionRegistry(
      SandboxConfig config,
      Zygote zygote,
      ControlSocket control,
      ScheduledExecutorService timer,
      Path sessionsRoot,
      Integer firstUid) {
    this.config = config;
    this.zygote = zygote;
    this.control = control;
    this.timer = timer;
    this.sessionsRoot = sessionsRoot;
    this.uidPerSession = firstUid != null;
    this.firstUid = firstUid == null ? -1 : firstUid;
    this.slotCount = config.capacity() + config.warmSessions();
    // With a uid per slot, slots rotate over the whole claimed uid block (UidBlock rounds up).
    this.slotRange =
        uidPerSession
            ? (slotCount + UidBlock.BLOCK - 1) / UidBlock.BLOCK * UidBlock.BLOCK
            : slotCount;
    this.slots = new BitSet(slotCount);
    this.refiller =
        Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("sandbox-warm-sessions").factory());
  }

  Zygote zygote() {
    return zygote;
  }

  /** A new runtime replaces one that died. */
  void zygote(Zygote replacement) {
    this.zygote = replacement;
    refillLater();
  }

  void metrics(SandboxMetrics metrics) {
    this.metrics = metrics;
  }

  /** The process id of an open session (tests, benchmarks), or -1. */
  long pidOf(String sessionId) {
    Session s = sessions.get(sessionId);
    return s == null ? -1 : s.pid;
  }

  /** Process ids of every open session. */
  List<Long> pids() {
    return sessions.values().stream().map(s -> s.pid).toList();
  }

  int open() {
    return sessions.size();
  }

  int busy() {
    int n = 0;
    for (Session s : sessions.values()) {
      if (s.isBusy()) {
        n++;
      }
    }
    return n;
  }

  SandboxStats stats() {
    return SandboxStats.newBuilder()
        .setCapacity(config.capacity())
        .setOpenSessions(open())
        .setBusySessions(busy())
        .setWarmRuntimes(zygote.isAlive() && !draining ? spares.size() : 0)
        .setExecutionsTotal(executions.get())
        .setDraining(draining)
        .build();
  }

  // --- open -------------------------------------------------------------------------------

  /** A forked, connected and locked-down runtime that is not a session yet. */
  private record Prepared(
      String id,
      long pid,
      Integer uid,
      int slot,
      Path workdir,
      ControlSocket.Connection connection) {}

  Session open(OpenSessionRequest request) {
    try {
      return openOnSpare(request);
    } finally {
      // Only now: forking the next warm runtime while this one decodes its media would take CPU
      // from the open that a client is waiting for.
      refillLater();
    }
  }

  private Session openOnSpare(OpenSessionRequest request) {
    if (draining) {
      throw Status.UNAVAILABLE
          .withDescription("sandbox server is shutting down; open the session on another server")
          .asRuntimeException();
    }
    validate(request.getMediaList());
    reserveCapacity();
    long started = System.nanoTime();
    long deadline = started + config.openTimeout().toNanos();
    Prepared p = spares.poll();
    try {
      if (p == null) {
        p = prepare(deadline);
      }
    } catch (RuntimeException e) {
      releaseCapacity();
      throw e;
    }
    try {
      ObjectNode open = Frames.JSON.createObjectNode();
      open.put("op", "open");
      ArrayNode items = open.putArray("media");
      List<ByteBuffer> blobs = new ArrayList<>();
      for (Media m : request.getMediaList()) {
        items.addObject().put("name", m.getName()).put("mime", m.getMimeType());
        blobs.add(m.getData().asReadOnlyByteBuffer());
      }
      ControlSocket.Connection c = p.connection();
      var guard = timer.schedule(c::closeQuietly, remaining(deadline), TimeUnit.NANOSECONDS);
      Frames.Message reply;
      try {
        Frames.send(c.channel(), open, blobs);
        reply = Frames.receive(c.in());
      } finally {
        guard.cancel(false);
      }
      if (reply.header().has("error")) {
        String error = reply.header().path("error").asText();
        Status status = error.startsWith("media ") ? Status.INVALID_ARGUMENT : Status.INTERNAL;
        throw status.withDescription(error).asRuntimeException();
      }
      Session session =
          new Session(
              p.id(),
              request.getLabel(),
              p.pid(),
              p.uid(),
              p.slot(),
              p.workdir(),
              c,
              config,
              this::zygote,
              this::ended);
      sessions.put(p.id(), session);
      byPid.put(p.pid(), session);
      if (metrics != null) {
        metrics.opened(Duration.ofNanos(System.nanoTime() - started));
      }
      return session;
    } catch (StatusRuntimeException e) {
      abandon(p);
      releaseCapacity();
      throw e;
    } catch (IOException e) {
      abandon(p);
      releaseCapacity();
      throw Status.INTERNAL
          .withDescription("could not start a session: " + e.getMessage())
          .withCause(e)
          .asRuntimeException();
    }
  }

  /** Forks a runtime, waits for it to connect back and lock itself down. */
  private Prepared prepare(long deadline) {
    int slot = acquireSlot();
    String id = HexFormat.of().formatHex(randomBytes(16));
    Path workdir = sessionsRoot.resolve(id);
    Integer uid = uidPerSession ? firstUid + slot : null;
    Zygote z = zygote;
    Long pid = null;
    try {
      Files.createDirectory(
          workdir,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
      String token = HexFormat.of().formatHex(randomBytes(24));
      var connected = control.expect(token);
      ObjectNode fork = Frames.JSON.createObjectNode();
      fork.put("sid", id)
          .put("token", token)
          .put("socket", control.path().toString())
          .put("workdir", workdir.toString());
      if (uid != null) {
        fork.put("uid", uid).put("gid", uid);
      }
      fork.set("limits", limits());
      pid = z.fork(fork).get(remaining(deadline), TimeUnit.NANOSECONDS);
      try {
        return new Prepared(
            id, pid, uid, slot, workdir, connected.get(remaining(deadline), TimeUnit.NANOSECONDS));
      } finally {
        connected.cancel(false);
      }
    } catch (TimeoutException e) {
      abandon(new Prepared(id, pid == null ? -1 : pid, uid, slot, workdir, null));
      throw Status.UNAVAILABLE
          .withDescription(
              "opening a session took longer than "
                  + config.openTimeout().toMillis()
                  + " ms; the server may be overloaded, retry")
          .asRuntimeException();
    } catch (IOException | ExecutionException e) {
      abandon(new Prepared(id, pid == null ? -1 : pid, uid, slot, workdir, null));
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw Status.INTERNAL
          .withDescription("could not start a session: " + cause.getMessage())
          .withCause(cause)
          .asRuntimeException();
    } catch (InterruptedException e) {
      abandon(new Prepared(id, pid == null ? -1 : pid, uid, slot, workdir, null));
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
  }

  /** Keeps {@code warmSessions} prepared runtimes ready, in the background. */
  void refillLater() {
    if (config.warmSessions() > 0 && !draining) {
      refiller.execute(this::refill);
    }
  }

  private void refill() {
    while (!draining
        && zygote.isAlive()
        && spares.size() < config.warmSessions()
        && freeSlots() > 0) {
      try {
        Prepared p = prepare(System.nanoTime() + config.openTimeout().toNanos());
        if (draining) {
          abandon(p);
          return;
        }
        spares.add(p);
      } catch (RuntimeException e) {
        LOG.warning("could not prepare a warm session: " + e.getMessage());
        return;
      }
    }
  }

  private ObjectNode limits() {
    ObjectNode l = Frames.JSON.createObjectNode();
    // Without a uid per session RLIMIT_NPROC counts every process of the shared uid.
    long processes =
        uidPerSession
            ? config.maxProcesses()
            : (long) config.maxProcesses() * config.capacity() + 1024;
    l.put("cpu_seconds", config.cpuSeconds())
        .put("memory_bytes", config.memoryBytes())
        .put("max_processes", processes)
        .put("max_open_files", config.maxOpenFiles())
        .put("max_file_bytes", config.maxFileBytes())
        .put("max_stdout_chars", config.maxStdoutChars())
        .put("max_stderr_chars", config.maxStderrChars())
        .put("max_images", config.maxImages())
        .put("max_image_pixels", config.maxImagePixels())
        .put("max_input_pixels", config.maxInputPixels());
    return l;
  }

  /** Kills a prepared runtime that never became a session; completes once it is gone. */
  private CompletableFuture<Void> abandon(Prepared p) {
    if (p.connection() != null) {
      p.connection().closeQuietly();
    }
    if (p.pid() > 0) {
      return zygote
          .kill(p.pid(), p.uid(), p.workdir().toString())
          .handle(
              (ok, failure) -> {
                Session.deleteQuietly(p.workdir());
                releaseSlot(p.slot());
                return null;
              });
    }
    Session.deleteQuietly(p.workdir());
    releaseSlot(p.slot());
    return CompletableFuture.completedFuture(null);
  }

  private void validate(List<Media> media) {
    Set<String> names = new HashSet<>();
    long total = 0;
    for (int i = 0; i < media.size(); i++) {
      Media m = media.get(i);
      String where = "media[" + i + "] '" + m.getName() + "'";
      if (!IDENTIFIER.matcher(m.getName()).matches() || KEYWORDS.contains(m.getName())) {
        throw invalid(where + ": name must be a Python identifier, e.g. image_clue_0");
      }
      if (!names.add(m.getName())) {
        throw invalid(where + ": duplicate name");
      }
      if (!MIME_TYPES.contains(m.getMimeType())) {
        throw invalid(
            where
                + ": mime_type '"
                + m.getMimeType()
                + "' is not supported (image/png, image/jpeg, video/mp4)");
      }
      if (m.getData().isEmpty()) {
        throw invalid(where + ": data is empty");
      }
      total += m.getData().size();
    }
    if (total > config.maxMediaBytes()) {
      throw invalid(
          "media total " + total + " bytes exceeds the server's cap of " + config.maxMediaBytes());
    }
  }

  private static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  private void reserveCapacity() {
    if (reserved.incrementAndGet() > config.capacity()) {
      reserved.decrementAndGet();
      throw Status.RESOURCE_EXHAUSTED
          .withDescription(
              "sandbox server is at capacity ("
                  + config.capacity()
                  + " sessions); close sessions or use another server")
          .asRuntimeException();
    }
  }

  private void releaseCapacity() {
    reserved.decrementAndGet();
  }

  /** Slots (and with them uids) for sessions and warm runtimes. */
  private int acquireSlot() {
    synchronized (slots) {
      if (slots.cardinality() >= slotCount) {
        throw Status.RESOURCE_EXHAUSTED
            .withDescription("no free session slot: sessions are still being cleaned up, retry")
            .asRuntimeException();
      }
      // Round robin: the uid of a session that just ended is handed out again last, long after
      // its killed processes are reaped (until then they count against the uid's RLIMIT_NPROC).
      int slot = slots.nextClearBit(nextSlot);
      if (slot >= slotRange) {
        slot = slots.nextClearBit(0);
      }
      slots.set(slot);
      nextSlot = (slot + 1) % slotRange;
      return slot;
    }
  }

  private int freeSlots() {
    synchronized (slots) {
      return slotCount - slots.cardinality();
    }
  }

  private void releaseSlot(int slot) {
    synchronized (slots) {
      slots.clear(slot);
    }
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static long remaining(long deadlineNanos) {
    return Math.max(1, deadlineNanos - System.nanoTime());
  }

  // --- use ----------------------------------------------------------------------------------

  ExecuteResponse execute(String sessionId, String code, int timeoutMs) {
    Session session = lookup(sessionId);
    Duration timeout = timeoutMs <= 0 ? config.defaultExecTimeout() : Duration.ofMillis(timeoutMs);
    if (timeout.compareTo(config.maxExecTimeout()) > 0) {
      timeout = config.maxExecTimeout();
    }
    ExecuteResponse response = session.execute(code, timeout);
    executions.incrementAndGet();
    return response;
  }

  /** Closes a session; false when it had already ended. */
  boolean close(String sessionId) {
    requireId(sessionId);
    Session session = sessions.get(sessionId);
    if (session == null) {
      if (ended.contains(sessionId)) {
        return false;
      }
      throw Status.NOT_FOUND
          .withDescription("session " + sessionId + " was never opened on this server")
          .asRuntimeException();
    }
    try {
      session.end(KillReason.CLOSED).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
    return true;
  }

  private Session lookup(String sessionId) {
    requireId(sessionId);
    Session session = sessions.get(sessionId);
    if (session == null || session.isEnded()) {
      throw Status.NOT_FOUND
          .withDescription(
              "session "
                  + sessionId
                  + (ended.contains(sessionId) ? " has ended" : " is not open on this server")
                  + "; open a new session")
          .asRuntimeException();
    }
    return session;
  }

  private static void requireId(String sessionId) {
    if (sessionId == null || sessionId.isEmpty()) {
      throw invalid("session_id is empty");
    }
  }

  /** Called once a session's processes and files are gone. */
  private void ended(Session session) {
    sessions.remove(session.id);
    byPid.remove(session.pid);
    ended.add(session.id);
    releaseSlot(session.slot);
    releaseCapacity();
    refillLater();
    if (metrics != null && session.endReason() != null) {
      metrics.killed(session.endReason());
    }
    LOG.fine(
        "session " + session.id + " (" + session.label + ") ended: " + session.endReason().label);
  }

  /** A session process exited (reported by the runtime). */
  void processExited(Zygote.Exit exit) {
    Session session = byPid.get(exit.pid());
    if (session == null) {
      for (Prepared p : spares) {
        if (p.pid() == exit.pid() && spares.remove(p)) {
          abandon(p);
          refillLater();
        }
      }
      return;
    }
    session.exited(exit);
    if (!session.isBusy()) {
      // Died between executions (a leftover thread called os._exit, the CPU limit, ...).
      timer.schedule(
          () -> {
            if (!session.isBusy() && !session.isEnded()) {
              session.end(
                  exit.signal() != null && exit.signal() == 24 ? KillReason.CPU : KillReason.DIED);
            }
          },
          0,
          TimeUnit.MILLISECONDS);
    }
  }

  /** The runtime died: every session died with it. */
  void runtimeDied() {
    for (Prepared p; (p = spares.poll()) != null; ) {
      p.connection().closeQuietly();
      Session.deleteQuietly(p.workdir());
      releaseSlot(p.slot());
    }
    for (Session s : List.copyOf(sessions.values())) {
      s.end(KillReason.DIED);
    }
  }

  /** Enforces the deadlines and quotas of running executions. */
  void watchExecutions() {
    long now = System.nanoTime();
    for (Session s : sessions.values()) {
      if (s.isBusy()) {
        s.watch(now);
      }
    }
  }

  void reapIdle() {
    long ttl = config.idleTtl().toNanos();
    for (Session s : List.copyOf(sessions.values())) {
      if (!s.isEnded() && s.idleNanos() > ttl) {
        s.end(KillReason.IDLE);
      }
    }
  }

  // --- shutdown -------------------------------------------------------------------------------

  void startDraining() {
    draining = true;
  }

  /** Kills the warm runtimes (shutdown). */
  void dropSpares() {
    refiller.shutdownNow();
    try {
      refiller.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // Waited for: the server releases its uids after this, and a kill still on its way must not
    // reach the next server's sessions under the same uids.
    List<CompletableFuture<Void>> gone = new ArrayList<>();
    for (Prepared p; (p = spares.poll()) != null; ) {
      gone.add(abandon(p));
    }
    try {
      CompletableFuture.allOf(gone.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warning("warm runtimes not confirmed gone: " + e);
    }
  }

  boolean isDraining() {
    return draining;
  }

  /** Waits until no session is executing, at most {@code timeout}. */
  void awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (busy() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  /** Ends every session and waits until all are cleaned up. */
  void endAll(KillReason reason) {
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (Session s : List.copyOf(sessions.values())) {
      done.add(s.end(reason));
    }
    for (var f : done) {
      try {
        f.get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}

package io.rolloutfarm.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile code. In every case the server keeps serving a bystander session (whose state must
 * survive), and an ended session's processes and working directory are gone.
 */
class SandboxAbuseTest {
  private static final long MIB = 1024 * 1024;
  static SandboxTestSupport sandbox;
  static String bystander;
  static int calls;

  @BeforeAll
  static void start() throws Exception {
    sandbox =
        new SandboxTestSupport(
            SandboxTestSupport.config("abuse")
                .withInterruptGrace(Duration.ofMillis(700))
                .withDefaultExecTimeout(Duration.ofSeconds(20))
                .withMemoryBytes(1024 * MIB)
                .withMaxProcesses(40)
                .withMaxOpenFiles(64)
                .withMaxFileBytes(4 * MIB)
                .withDiskQuotaBytes(6 * MIB)
                .withMaxStdoutChars(1000)
                .withMaxStderrChars(1000)
                .withMaxImages(2)
                .withMaxImagePixels(20_000));
    bystander = sandbox.open();
    sandbox.exec(bystander, "calls = 0");
  }

  @AfterAll
  static void stop() {
    sandbox.close();
  }

  /** The bystander still works and kept its state. */
  @AfterEach
  void bystanderUnharmed() {
    ExecuteResponse r = sandbox.exec(bystander, "calls += 1\nprint(calls)");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    calls++;
    assertThat(r.getStdout()).isEqualTo(calls + "\n");
  }

  private long pid(String session) {
    long pid = sandbox.server.registry().pidOf(session);
    assertThat(pid).isPositive();
    return pid;
  }

  private Path workdir(String session) {
    return sandbox.server.config().workRoot().toAbsolutePath().resolve("sessions").resolve(session);
  }

  static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 15 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  static boolean gone(long pid) {
    return !Files.exists(Path.of("/proc/" + pid));
  }

  /** The session is dead: NOT_FOUND, process gone, directory removed. */
  private void assertReclaimed(String session, long pid) throws InterruptedException {
    assertThatThrownBy(() -> sandbox.exec(session, "1"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    eventually("session process " + pid + " gone", () -> gone(pid));
    eventually("working directory removed", () -> !Files.exists(workdir(session)));
  }

  @Test
  void interruptibleLoopTimesOutButTheSessionSurvives() {
    String s = sandbox.open();
    sandbox.exec(s, "kept = 'state'");
    ExecuteResponse r = sandbox.exec(s, "while True:\n    pass", 300);
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_TIMEOUT);
    assertThat(r.getSessionAlive()).isTrue();
    assertThat(r.getError()).contains("wall-clock timeout of 300 ms");
    assertThat(r.getStderr()).contains("KeyboardInterrupt");
    assertThat(sandbox.exec(s, "print(kept)").getStdout()).isEqualTo("state\n");
    sandbox.close(s);
  }

  @Test
  void loopIgnoringKeyboardInterruptIsKilled() throws Exception {
    String s = sandbox.open();
    long pid = pid(s);
    ExecuteResponse r =
        sandbox.exec(
            s,
            "while True:\n    try:\n        while True:\n            pass\n"
                + "    except KeyboardInterrupt:\n        pass",
            300);
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_TIMEOUT);
    assertThat(r.getSessionAlive()).isFalse();
    assertThat(r.getError()).contains("ignored the interrupt");
    assertReclaimed(s, pid);
  }

  @Test
  void forkBombIsContainedAndKilled() throws Exception {
    String s = sandbox.open();
    long pid = pid(s);
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
                + "        pass",
            1500);
    // Contained either way: the timeout stops the bomb, or the session's own runtime runs out
    // of processes/threads under its limit and the session is ended.
    assertThat(r.getStatus())
        .as("%s", r)
        .isIn(ExecStatus.EXEC_STATUS_TIMEOUT, ExecStatus.EXEC_STATUS_KILLED);
    sandbox.close(s);
    assertReclaimed(s, pid);
  }

  @Test
  void processLimitStopsSpawning() throws Exception {
    String s = sandbox.open();
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import subprocess\nps = []\ntry:\n    for _ in range(200):\n"
                + "        ps.append(subprocess.Popen(['sleep', '30']))\nfinally:\n"
                + "    print(len(ps))\n    [p.kill() for p in ps]\n    [p.wait() for p in ps]");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(r.getError()).containsAnyOf("BlockingIOError", "Resource temporarily unavailable");
    assertThat(Integer.parseInt(r.getStdout().strip())).isLessThan(40);
    sandbox.close(s);
  }

  @Test
  void memoryBombFailsInsideTheSession() {
    String s = sandbox.open();
    ExecuteResponse r =
        sandbox.exec(s, "hog = []\nwhile True:\n    hog.append(bytearray(50 * 2**20))");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(r.getError()).startsWith("MemoryError");
    assertThat(sandbox.exec(s, "hog.clear(); print('recovered')").getStdout())
        .isEqualTo("recovered\n");
    sandbox.close(s);
  }

  @Test
  void hugeOutputIsTruncatedWithAMarker() {
    String s = sandbox.open();
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import sys\nprint('x' * 10_000_000)\nfor i in range(100000):\n    print(i,"
                + " file=sys.stderr)");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(r.getStdout()).startsWith("x".repeat(1000)).contains("[output truncated");
    assertThat(r.getStdout().length()).isLessThan(1100);
    assertThat(r.getStderr()).startsWith("0\n1\n").contains("[output truncated");
    assertThat(r.getStderr().length()).isLessThan(1100);
    sandbox.close(s);
  }

  @Test
  void cannotWriteOutsideItsDirectory() {
    String s = sandbox.open();
    Path root = sandbox.server.config().workRoot().toAbsolutePath();
    for (String target :
        new String[] {"/tmp/escaped", root + "/escaped", "/etc/escaped", "../escaped"}) {
      ExecuteResponse r = sandbox.exec(s, "open('" + target + "', 'w').write('x')");
      assertThat(r.getStatus()).as(target).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
      assertThat(r.getError()).as(target).startsWith("PermissionError");
    }
    assertThat(root.resolve("escaped")).doesNotExist();
    ExecuteResponse own =
        sandbox.exec(s, "open('mine.txt', 'w').write('ok'); print(open('mine.txt').read())");
    assertThat(own.getStdout()).isEqualTo("ok\n");
    sandbox.close(s);
  }

  @Test
  void cannotReadAnotherSessionsFilesOrProcesses() {
    String a = sandbox.open();
    String b = sandbox.open();
    sandbox.exec(a, "open('secret.txt', 'w').write('a-secret')");
    ExecuteResponse read = sandbox.exec(b, "print(open('" + workdir(a) + "/secret.txt').read())");
    assertThat(read.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(read.getError()).startsWith("PermissionError");
    ExecuteResponse list =
        sandbox.exec(b, "import os\nprint(os.listdir('" + workdir(a).getParent() + "'))");
    assertThat(list.getError()).startsWith("PermissionError");
    ExecuteResponse proc = sandbox.exec(b, "print(open('/proc/" + pid(a) + "/environ').read())");
    assertThat(proc.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    ExecuteResponse ptrace = sandbox.exec(b, "import os\nprint(os.listdir('/proc'))");
    assertThat(ptrace.getError()).startsWith("PermissionError");
    sandbox.close(a);
    sandbox.close(b);
  }

  @Test
  void noNetworkNotEvenTheServersOwnPort() {
    String s = sandbox.open();
    ExecuteResponse tcp =
        sandbox.exec(
            s,
            "import socket\nsocket.create_connection(('127.0.0.1', "
                + sandbox.server.port()
                + "), timeout=2)");
    assertThat(tcp.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(tcp.getError()).startsWith("PermissionError");
    ExecuteResponse unix =
        sandbox.exec(s, "import socket\nsocket.socket(socket.AF_UNIX, socket.SOCK_STREAM)");
    assertThat(unix.getError()).startsWith("PermissionError");
    ExecuteResponse viaChild =
        sandbox.exec(
            s,
            "import subprocess, sys\nr = subprocess.run([sys.executable, '-c', 'import socket;"
                + " socket.socket()'], capture_output=True, text=True)\nprint(r.returncode,"
                + " 'PermissionError' in r.stderr)");
    assertThat(viaChild.getStdout()).isEqualTo("1 True\n");
    sandbox.close(s);
  }

  @Test
  void cannotSignalTheServerOrTheRuntime() {
    String s = sandbox.open();
    ExecuteResponse parent =
        sandbox.exec(s, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)");
    assertThat(parent.getError()).startsWith("PermissionError");
    ExecuteResponse server =
        sandbox.exec(s, "import os\nos.kill(" + ProcessHandle.current().pid() + ", 9)");
    assertThat(server.getError()).startsWith("PermissionError");
    ExecuteResponse group = sandbox.exec(s, "import os\nos.kill(-1, 9)\nprint('alive')");
    assertThat(group.getStatus()).isNotEqualTo(ExecStatus.EXEC_STATUS_UNSPECIFIED);
    sandbox.close(s);
  }

  @Test
  void osExitEndsTheSession() throws Exception {
    String s = sandbox.open();
    long pid = pid(s);
    ExecuteResponse r = sandbox.exec(s, "import os\nos._exit(3)");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_KILLED);
    assertThat(r.getSessionAlive()).isFalse();
    assertThat(r.getError()).contains("exited with code 3");
    assertReclaimed(s, pid);
  }

  @Test
  void segfaultEndsTheSession() throws Exception {
    String s = sandbox.open();
    long pid = pid(s);
    ExecuteResponse r = sandbox.exec(s, "import ctypes\nctypes.string_at(0)");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_KILLED);
    assertThat(r.getSessionAlive()).isFalse();
    assertThat(r.getError()).contains("SIGSEGV");
    assertReclaimed(s, pid);
  }

  @Test
  void threadsOutliveTheExecutionButNotTheSession() throws Exception {
    String s = sandbox.open();
    long pid = pid(s);
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import threading, time\nticks = []\ndef spin():\n    while True:\n"
                + "        ticks.append(1); time.sleep(0.01)\n"
                + "threading.Thread(target=spin, daemon=True).start()");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    Thread.sleep(100);
    assertThat(sandbox.exec(s, "print(len(ticks) > 0)").getStdout()).isEqualTo("True\n");
    assertThat(sandbox.close(s)).isTrue();
    assertReclaimed(s, pid);
  }

  @Test
  void escapedDaemonIsKilledWithTheSession() throws Exception {
    String s = sandbox.open();
    long pid = pid(s);
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import os, time\nr, w = os.pipe()\nif os.fork() == 0:\n    os.setsid()\n"
                + "    if os.fork() == 0:\n        os.write(w, str(os.getpid()).encode())\n"
                + "        time.sleep(600)\n    os._exit(0)\nos.close(w)\n"
                + "daemon = int(os.read(r, 32))\nos.wait()\nprint(daemon)");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    long daemon = Long.parseLong(r.getStdout().strip());
    assertThat(gone(daemon)).isFalse();
    sandbox.close(s);
    assertReclaimed(s, pid);
    eventually("escaped daemon " + daemon + " killed", () -> gone(daemon));
  }

  @Test
  void exitedChildrenAreReapedNoZombies() throws Exception {
    String s = sandbox.open();
    long pid = pid(s);
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import os\nkids = []\nfor _ in range(5):\n    k = os.fork()\n    if k == 0:\n"
                + "        os._exit(0)\n    kids.append(k)\nprint(' '.join(map(str, kids)))");
    assertThat(r.getStatus()).as("%s", r).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    for (String kid : r.getStdout().strip().split(" ")) {
      eventually("child " + kid + " reaped", () -> gone(Long.parseLong(kid)));
    }
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
    sandbox.close(s);
  }

  @Test
  void fileSizeLimitRaisesInsideTheSession() {
    String s = sandbox.open();
    ExecuteResponse r = sandbox.exec(s, "open('big.bin', 'wb').write(b'0' * (5 * 2**20))");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(r.getError()).contains("File too large");
    assertThat(r.getSessionAlive()).isTrue();
    sandbox.close(s);
  }

  @Test
  void diskQuotaKillsTheSession() throws Exception {
    String s = sandbox.open();
    long pid = pid(s);
    ExecuteResponse r =
        sandbox.exec(
            s, "for i in range(3):\n    open(f'part{i}.bin', 'wb').write(b'0' * (3 * 2**20))");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_KILLED);
    assertThat(r.getError()).startsWith("disk quota exceeded");
    assertThat(r.getSessionAlive()).isFalse();
    assertReclaimed(s, pid);
  }

  @Test
  void openFileLimitRaisesInsideTheSession() {
    String s = sandbox.open();
    ExecuteResponse r = sandbox.exec(s, "fs = [open(f'f{i}', 'w') for i in range(200)]");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(r.getError()).contains("Too many open files");
    sandbox.close(s);
  }

  @Test
  void imageCountAndPixelsAreCapped() {
    String s = sandbox.open();
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import matplotlib.pyplot as plt\nfor i in range(4):\n"
                + "    plt.figure(figsize=(8, 6), dpi=100); plt.plot([i]); plt.show()");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(r.getImagesCount()).isEqualTo(2);
    assertThat(r.getImagesDropped()).isEqualTo(2);
    for (var image : r.getImagesList()) {
      assertThat((long) image.getWidth() * image.getHeight()).isLessThanOrEqualTo(20_000);
      assertThat(image.getWidth()).isGreaterThan(100);
    }
    sandbox.close(s);
  }
}

package io.rolloutfarm.sandbox;

import static io.rolloutfarm.sandbox.SandboxAbuseTest.eventually;
import static io.rolloutfarm.sandbox.SandboxAbuseTest.gone;
import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pod's situation: every session runs under the server's own uid, so file permissions and uids
 * separate nothing; Landlock, seccomp and the subreaper tree must do it all.
 */
class SandboxSharedUidTest {
  static SandboxTestSupport sandbox;

  @BeforeAll
  static void start() throws Exception {
    sandbox =
        new SandboxTestSupport(SandboxTestSupport.config("shared-uid").withUidPerSession(false));
    assertThat(sandbox.server.protections().uidPerSession()).isFalse();
  }

  @AfterAll
  static void stop() {
    sandbox.close();
  }

  private static String serverUid() {
    try {
      return Files.getAttribute(Path.of("/proc/self"), "unix:uid").toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private Path workdir(String session) {
    return sandbox.server.config().workRoot().toAbsolutePath().resolve("sessions").resolve(session);
  }

  @Test
  void sessionsRunUnderTheServersUid() {
    String s = sandbox.open();
    ExecuteResponse r = sandbox.exec(s, "import os\nprint(os.getuid())");
    assertThat(r.getStdout().strip()).isEqualTo(serverUid());
    sandbox.close(s);
  }

  @Test
  void filesOfOtherSessionsAndTheServerAreOutOfReach() {
    String a = sandbox.open();
    String b = sandbox.open();
    sandbox.exec(a, "open('secret.txt', 'w').write('a-secret')");
    ExecuteResponse read = sandbox.exec(b, "print(open('" + workdir(a) + "/secret.txt').read())");
    assertThat(read.getError()).startsWith("PermissionError");
    ExecuteResponse write = sandbox.exec(b, "open('" + workdir(a) + "/planted.txt', 'w')");
    assertThat(write.getError()).startsWith("PermissionError");
    ExecuteResponse outside = sandbox.exec(b, "open('/tmp/escaped-shared', 'w')");
    assertThat(outside.getError()).startsWith("PermissionError");
    assertThat(Path.of("/tmp/escaped-shared")).doesNotExist();
    sandbox.close(a);
    sandbox.close(b);
  }

  @Test
  void signalsToTheServerOrSiblingsAreRefused() {
    String a = sandbox.open();
    String b = sandbox.open();
    long pidA = sandbox.server.registry().pidOf(a);
    for (long target : new long[] {ProcessHandle.current().pid(), pidA}) {
      ExecuteResponse r = sandbox.exec(b, "import os\nos.kill(" + target + ", 9)");
      assertThat(r.getError()).as("kill " + target).startsWith("PermissionError");
    }
    ExecuteResponse parent = sandbox.exec(b, "import os\nos.kill(os.getppid(), 9)");
    assertThat(parent.getError()).startsWith("PermissionError");
    assertThat(sandbox.exec(a, "print('a lives')").getStdout()).isEqualTo("a lives\n");
    sandbox.close(a);
    sandbox.close(b);
  }

  @Test
  void noSocketsAtAll() {
    String s = sandbox.open();
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import socket\nsocket.create_connection(('127.0.0.1', "
                + sandbox.server.port()
                + "))");
    assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_ERROR);
    assertThat(r.getError()).startsWith("PermissionError");
    sandbox.close(s);
  }

  @Test
  void escapedDaemonDiesWithTheSession() throws Exception {
    String s = sandbox.open();
    long pid = sandbox.server.registry().pidOf(s);
    ExecuteResponse r =
        sandbox.exec(
            s,
            "import os, time\nr, w = os.pipe()\nif os.fork() == 0:\n    os.setsid()\n"
                + "    if os.fork() == 0:\n        os.write(w, str(os.getpid()).encode())\n"
                + "        time.sleep(600)\n    os._exit(0)\nos.close(w)\n"
                + "daemon = int(os.read(r, 32))\nos.wait()\nprint(daemon)");
    long daemon = Long.parseLong(r.getStdout().strip());
    assertThat(gone(daemon)).isFalse();
    sandbox.close(s);
    eventually("session process gone", () -> gone(pid));
    eventually("escaped daemon gone", () -> gone(daemon));
    eventually("working directory removed", () -> !Files.exists(workdir(s)));
  }
}

package io.rolloutfarm.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** 64 sessions execute at once, each with its own state. */
class SandboxConcurrencyTest {
  @Test
  void sixtyFourSessionsExecuteAtOnce() throws Exception {
    int n = 64;
    try (var sandbox =
            new SandboxTestSupport(SandboxTestSupport.config("concurrency").withCapacity(n));
        var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<CompletableFuture<String>> opened = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        opened.add(
            CompletableFuture.supplyAsync(
                () -> {
                  String s = sandbox.open();
                  sandbox.exec(s, "k = " + k);
                  return s;
                },
                pool));
      }
      List<String> sessions = opened.stream().map(CompletableFuture::join).toList();
      CountDownLatch start = new CountDownLatch(1);
      List<CompletableFuture<ExecuteResponse>> runs = new ArrayList<>();
      for (String s : sessions) {
        runs.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    start.await();
                  } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                  }
                  return sandbox.exec(
                      s,
                      "import numpy as np, time\ntime.sleep(0.2)\nprint(int(np.arange(k + 1).sum()))");
                },
                pool));
      }
      start.countDown();
      for (int i = 0; i < n; i++) {
        ExecuteResponse r = runs.get(i).get(120, TimeUnit.SECONDS);
        assertThat(r.getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
        assertThat(r.getStdout()).isEqualTo(i * (i + 1) / 2 + "\n");
      }
      for (String s : sessions) {
        assertThat(sandbox.close(s)).isTrue();
      }
    }
  }
}

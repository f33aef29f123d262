package io.rolloutfarm.learner.serve;

import io.rolloutfarm.learner.engine.Engine;
import io.rolloutfarm.proto.v1.SampleItem;
import io.rolloutfarm.proto.v1.SampleRequest;
import io.rolloutfarm.proto.v1.SampleResponse;
import io.rolloutfarm.proto.v1.SampleResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Dynamic batching: generation requests from many workers are queued and sent to the engine
 * together in one {@code Sample} call. A batch closes when it holds {@code maxBatch} requests or
 * {@code window} has passed since its first request; while the engine works on one batch the next
 * one fills up, so under load batches grow by themselves.
 */
public final class GenerateBatcher implements AutoCloseable {
  private final Engine engine;
  private final int maxBatch;
  private final long windowNanos;
  private final BiConsumer<Integer, Duration> onBatch;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread worker;
  private volatile boolean closed;

  /** A sampled continuation and the policy version that produced it. */
  public record Result(SampleResult result, long policyVersion) {}

  private record Pending(SampleItem item, CompletableFuture<Result> future) {}

  /**
   * @param onBatch told the size and duration of every engine call (metrics)
   */
  public GenerateBatcher(
      Engine engine, int maxBatch, Duration window, BiConsumer<Integer, Duration> onBatch) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be at least 1");
    }
    this.engine = engine;
    this.maxBatch = maxBatch;
    this.windowNanos = window.toNanos();
    this.onBatch = onBatch;
    this.worker = Thread.ofPlatform().daemon().name("generate-batcher").start(this::loop);
  }

  /** Queues one request; the future completes when its batch returns. */
  public CompletableFuture<Result> submit(SampleItem item) {
    CompletableFuture<Result> future = new CompletableFuture<>();
    if (closed) {
      future.completeExceptionally(new IllegalStateException("policy server is shutting down"));
      return future;
    }
    queue.add(new Pending(item, future));
    return future;
  }

  private void loop() {
    while (!closed) {
      List<Pending> batch = new ArrayList<>();
      try {
        Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        long deadline = System.nanoTime() + windowNanos;
        while (batch.size() < maxBatch) {
          // Whatever already waits joins at once; then wait out the window for more.
          Pending next = queue.poll();
          if (next == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
              break;
            }
            next = queue.poll(left, TimeUnit.NANOSECONDS);
            if (next == null) {
              break;
            }
          }
          batch.add(next);
        }
      } catch (InterruptedException e) {
        failAll(batch, e);
        break;
      }
      run(batch);
    }
    List<Pending> rest = new ArrayList<>();
    queue.drainTo(rest);
    failAll(rest, new IllegalStateException("policy server is shutting down"));
  }

  private void run(List<Pending> batch) {
    SampleRequest.Builder request = SampleRequest.newBuilder();
    for (Pending p : batch) {
      request.addItems(p.item());
    }
    long start = System.nanoTime();
    try {
      SampleResponse response = engine.sample(request.build());
      if (response.getResultsCount() != batch.size()) {
        throw new IllegalStateException(
            "engine returned "
                + response.getResultsCount()
                + " results for "
                + batch.size()
                + " sample items");
      }
      onBatch.accept(batch.size(), Duration.ofNanos(System.nanoTime() - start));
      for (int i = 0; i < batch.size(); i++) {
        batch
            .get(i)
            .future()
            .complete(new Result(response.getResults(i), response.getPolicyVersion()));
      }
    } catch (RuntimeException e) {
      failAll(batch, e);
    }
  }

  private static void failAll(List<Pending> batch, Throwable cause) {
    for (Pending p : batch) {
      p.future().completeExceptionally(cause);
    }
  }

  @Override
  public void close() {
    closed = true;
    worker.interrupt();
    try {
      worker.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

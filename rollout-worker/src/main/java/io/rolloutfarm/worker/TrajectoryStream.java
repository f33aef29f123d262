package io.rolloutfarm.worker;

import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc.LearnerServiceStub;
import io.rolloutfarm.proto.v1.SubmissionAck;
import io.rolloutfarm.proto.v1.TrajectorySubmission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The worker's one {@code SubmitTrajectories} stream. Submissions stay pending until the learner
 * acknowledges them; when the stream breaks, a new one is opened after a backoff and every pending
 * submission is sent again (the learner acknowledges duplicates of a lease by rejecting them).
 */
final class TrajectoryStream implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(TrajectoryStream.class.getName());

  private final LearnerServiceStub stub;
  private final Consumer<SubmissionAck> onAck;
  private final Map<String, TrajectorySubmission> pending = new LinkedHashMap<>();
  private StreamObserver<TrajectorySubmission> requests;
  private boolean closed;
  private int failures;
  private Thread reconnecting;

  TrajectoryStream(LearnerServiceStub stub, Consumer<SubmissionAck> onAck) {
    this.stub = stub;
    this.onAck = onAck;
  }

  /** Sends a submission (or queues it while the stream reconnects). */
  synchronized void submit(TrajectorySubmission submission) {
    pending.put(submission.getLeaseId(), submission);
    if (closed) {
      return;
    }
    if (requests == null && reconnecting == null) {
      open();
    }
    if (requests != null) {
      requests.onNext(submission);
    }
  }

  /** Submissions not yet acknowledged. */
  synchronized int pendingCount() {
    return pending.size();
  }

  /** Lease ids of submissions not yet acknowledged. */
  synchronized List<String> pendingLeases() {
    return new ArrayList<>(pending.keySet());
  }

  /** Waits until every submission is acknowledged or the time is up. */
  synchronized boolean awaitDrained(long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!pending.isEmpty()) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        return false;
      }
      wait(left);
    }
    return true;
  }

  private void open() {
    StreamObserver<TrajectorySubmission>[] self = new StreamObserver[1];
    self[0] =
        stub.submitTrajectories(
            new StreamObserver<>() {
              @Override
              public void onNext(SubmissionAck ack) {
                synchronized (TrajectoryStream.this) {
                  pending.remove(ack.getLeaseId());
                  failures = 0;
                  TrajectoryStream.this.notifyAll();
                }
                onAck.accept(ack);
              }

              @Override
              public void onError(Throwable t) {
                broken(self[0], t);
              }

              @Override
              public void onCompleted() {
                broken(self[0], null);
              }
            });
    requests = self[0];
  }

  private synchronized void broken(StreamObserver<TrajectorySubmission> which, Throwable t) {
    if (requests != which && requests != null) {
      return; // an older stream
    }
    requests = null;
    if (closed) {
      notifyAll();
      return;
    }
    failures++;
    long backoff = Math.min(5000, 100L << Math.min(failures, 6));
    LOG.log(
        Level.WARNING,
        "trajectory stream to the learner broke ({0}); reconnecting in {1} ms with {2} pending",
        new Object[] {t == null ? "closed by the learner" : t.toString(), backoff, pending.size()});
    reconnecting =
        Thread.ofVirtual()
            .name("trajectory-stream-reconnect")
            .start(
                () -> {
                  try {
                    Thread.sleep(backoff);
                  } catch (InterruptedException e) {
                    return;
                  }
                  synchronized (TrajectoryStream.this) {
                    reconnecting = null;
                    if (closed) {
                      return;
                    }
                    open();
                    for (TrajectorySubmission s : List.copyOf(pending.values())) {
                      requests.onNext(s);
                    }
                  }
                });
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (reconnecting != null) {
      reconnecting.interrupt();
    }
    if (requests != null) {
      try {
        requests.onCompleted();
      } catch (RuntimeException e) {
        // already broken
      }
      requests = null;
    }
    notifyAll();
  }
}

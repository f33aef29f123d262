package io.rolloutfarm.worker.bench;

import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import io.rolloutfarm.proto.v1.LeaseTasksRequest;
import io.rolloutfarm.proto.v1.LeaseTasksResponse;
import io.rolloutfarm.proto.v1.Observation;
import io.rolloutfarm.proto.v1.ReleaseLeasesRequest;
import io.rolloutfarm.proto.v1.ReleaseLeasesResponse;
import io.rolloutfarm.proto.v1.RenewLeasesRequest;
import io.rolloutfarm.proto.v1.RenewLeasesResponse;
import io.rolloutfarm.proto.v1.SubmissionAck;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.TaskLease;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.TrajectorySubmission;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A learner that hands out {@code total} copies of one task and acknowledges every trajectory; when
 * all are handed out it says the run is finished. The first {@code rampCount} tasks are released
 * one every {@code rampNanos} after {@link #startClock}; it records when each trajectory arrived.
 */
public final class BenchLearnerService extends LearnerServiceGrpc.LearnerServiceImplBase {
  /** What {@link SimulatedPolicyService#CODE_TURN} prints for the benchmark's 64x64 image. */
  static final String EXPECTED_STDOUT = "(64, 64)\n";

  private final Task task;
  private final int total;
  private final AtomicInteger handedOut = new AtomicInteger();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong done = new AtomicLong();
  private final AtomicLong executedAsExpected = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();

  private final int rampCount;
  private final long rampNanos;
  private final long[] completedAt;
  private volatile long t0;

  public BenchLearnerService(Task task, int total, int rampCount, long rampNanos) {
    this.task = task;
    this.total = total;
    this.rampCount = rampCount;
    this.rampNanos = rampNanos;
    this.completedAt = new long[total];
  }

  /** Starts the release ramp. */
  public void startClock(long nanoTime) {
    t0 = nanoTime;
  }

  /** How many tasks may have been handed out by now. */
  private int released() {
    if (rampNanos <= 0 || handedOut.get() >= rampCount) {
      return total;
    }
    return (int) Math.min(rampCount, 1 + (System.nanoTime() - t0) / rampNanos);
  }

  /** Acknowledged trajectories that answered and ran every code turn. */
  public long completed() {
    return completed.get();
  }

  /**
   * When the {@code i}-th completed trajectory (from 0) was acknowledged, in {@link
   * System#nanoTime}.
   */
  public long completedAtNanos(int i) {
    synchronized (completedAt) {
      return completedAt[i];
    }
  }

  @Override
  public void leaseTasks(LeaseTasksRequest req, StreamObserver<LeaseTasksResponse> out) {
    LeaseTasksResponse.Builder r = LeaseTasksResponse.newBuilder();
    int limit = released();
    for (int i = 0; i < req.getMaxTasks(); i++) {
      int n = handedOut.getAndIncrement();
      if (n >= limit) {
        handedOut.decrementAndGet();
        break;
      }
      r.addLeases(
          TaskLease.newBuilder()
              .setLeaseId("lease-" + n)
              .setTask(task.toBuilder().setTaskId(task.getTaskId() + "-" + n).setGroupIndex(n % 8))
              .setDeadlineUnixMs(System.currentTimeMillis() + 600_000));
    }
    r.setRunFinished(handedOut.get() >= total && r.getLeasesCount() == 0).setRetryAfterMs(50);
    out.onNext(r.build());
    out.onCompleted();
  }

  @Override
  public void renewLeases(RenewLeasesRequest req, StreamObserver<RenewLeasesResponse> out) {
    out.onNext(
        RenewLeasesResponse.newBuilder()
            .setDeadlineUnixMs(System.currentTimeMillis() + 600_000)
            .build());
    out.onCompleted();
  }

  @Override
  public void releaseLeases(ReleaseLeasesRequest req, StreamObserver<ReleaseLeasesResponse> out) {
    out.onNext(ReleaseLeasesResponse.newBuilder().setReleased(req.getLeaseIdsCount()).build());
    out.onCompleted();
  }

  @Override
  public StreamObserver<TrajectorySubmission> submitTrajectories(
      StreamObserver<SubmissionAck> acks) {
    return new StreamObserver<>() {
      @Override
      public void onNext(TrajectorySubmission s) {
        Trajectory t = s.getTrajectory();
        if (t.getEndReason() == EndReason.END_REASON_DONE) {
          done.incrementAndGet();
        }
        if (ranEveryCodeTurn(t)) {
          executedAsExpected.incrementAndGet();
        }
        if (t.getEndReason() != EndReason.END_REASON_DONE || !ranEveryCodeTurn(t)) {
          failed.incrementAndGet();
        }
        if (t.getEndReason() == EndReason.END_REASON_DONE && ranEveryCodeTurn(t)) {
          synchronized (completedAt) {
            long n = completed.get();
            if (n < completedAt.length) {
              completedAt[(int) n] = System.nanoTime();
            }
            // Counted last, so that a reader who sees the count also sees the times.
            completed.incrementAndGet();
          }
        }
        accepted.incrementAndGet();
        synchronized (acks) {
          acks.onNext(
              SubmissionAck.newBuilder()
                  .setLeaseId(s.getLeaseId())
                  .setTrajectoryId(s.getTrajectory().getTrajectoryId())
                  .setAccepted(true)
                  .build());
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        synchronized (acks) {
          acks.onCompleted();
        }
      }
    };
  }

  /** Every turn but the answer executed in a real session and printed the image size. */
  private static boolean ranEveryCodeTurn(Trajectory t) {
    if (t.getTurnsCount() < 2) {
      return false;
    }
    for (int i = 0; i < t.getTurnsCount() - 1; i++) {
      Observation o = t.getTurns(i).getObservation();
      if (o.getStatus() != ExecStatus.EXEC_STATUS_OK || !o.getStdout().equals(EXPECTED_STDOUT)) {
        return false;
      }
    }
    return true;
  }

  /** Acknowledged trajectories whose code turns all ran and printed the image size. */
  public long executedAsExpected() {
    return executedAsExpected.get();
  }

  /** Acknowledged trajectories that did not answer or did not run every code turn. */
  public long failed() {
    return failed.get();
  }

  /** Trajectories acknowledged. */
  public long accepted() {
    return accepted.get();
  }

  /** Acknowledged trajectories that ended with an answer. */
  public long done() {
    return done.get();
  }
}

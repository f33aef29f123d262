package io.rolloutfarm.worker.bench;

import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import io.rolloutfarm.proto.v1.LeaseTasksRequest;
import io.rolloutfarm.proto.v1.LeaseTasksResponse;
import io.rolloutfarm.proto.v1.ReleaseLeasesRequest;
import io.rolloutfarm.proto.v1.ReleaseLeasesResponse;
import io.rolloutfarm.proto.v1.RenewLeasesRequest;
import io.rolloutfarm.proto.v1.RenewLeasesResponse;
import io.rolloutfarm.proto.v1.SubmissionAck;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.TaskLease;
import io.rolloutfarm.proto.v1.TrajectorySubmission;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A learner that hands out {@code total} copies of one task and acknowledges every trajectory; when
 * all are handed out it says the run is finished.
 */
public final class BenchLearnerService extends LearnerServiceGrpc.LearnerServiceImplBase {
  private final Task task;
  private final int total;
  private final AtomicInteger handedOut = new AtomicInteger();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong done = new AtomicLong();

  public BenchLearnerService(Task task, int total) {
    this.task = task;
    this.total = total;
  }

  @Override
  public void leaseTasks(LeaseTasksRequest req, StreamObserver<LeaseTasksResponse> out) {
    LeaseTasksResponse.Builder r = LeaseTasksResponse.newBuilder();
    for (int i = 0; i < req.getMaxTasks(); i++) {
      int n = handedOut.getAndIncrement();
      if (n >= total) {
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
        if (s.getTrajectory().getEndReason() == io.rolloutfarm.proto.v1.EndReason.END_REASON_DONE) {
          done.incrementAndGet();
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

  /** Trajectories acknowledged. */
  public long accepted() {
    return accepted.get();
  }

  /** Acknowledged trajectories that ended with an answer. */
  public long done() {
    return done.get();
  }
}

package io.rolloutfarm.learner.serve;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.learner.dispatch.Dispatcher;
import io.rolloutfarm.proto.v1.GetRunStatusRequest;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import io.rolloutfarm.proto.v1.LeaseTasksRequest;
import io.rolloutfarm.proto.v1.LeaseTasksResponse;
import io.rolloutfarm.proto.v1.ReleaseLeasesRequest;
import io.rolloutfarm.proto.v1.ReleaseLeasesResponse;
import io.rolloutfarm.proto.v1.RenewLeasesRequest;
import io.rolloutfarm.proto.v1.RenewLeasesResponse;
import io.rolloutfarm.proto.v1.RunStatus;
import io.rolloutfarm.proto.v1.SubmissionAck;
import io.rolloutfarm.proto.v1.TaskLease;
import io.rolloutfarm.proto.v1.TrajectorySubmission;
import java.time.Duration;
import java.util.function.Supplier;

/** LearnerService: leases, trajectory intake and run status over gRPC. */
public final class LearnerGrpcService extends LearnerServiceGrpc.LearnerServiceImplBase {
  /** Longest long-poll a LeaseTasks call may ask for. */
  static final Duration MAX_WAIT = Duration.ofSeconds(30);

  static final int RETRY_AFTER_MS = 500;

  private final Dispatcher dispatcher;
  private final Supplier<RunStatus> status;

  public LearnerGrpcService(Dispatcher dispatcher, Supplier<RunStatus> status) {
    this.dispatcher = dispatcher;
    this.status = status;
  }

  @Override
  public void leaseTasks(LeaseTasksRequest request, StreamObserver<LeaseTasksResponse> out) {
    if (request.getWorkerId().isBlank()) {
      out.onError(invalid("worker_id is required"));
      return;
    }
    if (request.getMaxTasks() < 1) {
      out.onError(invalid("max_tasks must be at least 1"));
      return;
    }
    try {
      Duration wait = Duration.ofMillis(request.getWaitMs());
      if (wait.compareTo(MAX_WAIT) > 0) {
        wait = MAX_WAIT;
      }
      Dispatcher.LeaseGrant grant =
          dispatcher.lease(request.getWorkerId(), request.getMaxTasks(), wait);
      LeaseTasksResponse.Builder response =
          LeaseTasksResponse.newBuilder().setRunFinished(grant.runFinished());
      for (int i = 0; i < grant.leases().size(); i++) {
        response.addLeases(
            TaskLease.newBuilder()
                .setLeaseId(grant.leases().get(i).id())
                .setTask(grant.tasks().get(i))
                .setDeadlineUnixMs(grant.leases().get(i).deadline().toEpochMilli()));
      }
      if (response.getLeasesCount() == 0 && !grant.runFinished()) {
        response.setRetryAfterMs(RETRY_AFTER_MS);
      }
      out.onNext(response.build());
      out.onCompleted();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.onError(Status.CANCELLED.withDescription("learner shutting down").asRuntimeException());
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
    }
  }

  @Override
  public void renewLeases(RenewLeasesRequest request, StreamObserver<RenewLeasesResponse> out) {
    Dispatcher.Renewal renewal = dispatcher.renew(request.getWorkerId(), request.getLeaseIdsList());
    out.onNext(
        RenewLeasesResponse.newBuilder()
            .addAllExpiredLeaseIds(renewal.expired())
            .setDeadlineUnixMs(renewal.deadline().toEpochMilli())
            .build());
    out.onCompleted();
  }

  @Override
  public void releaseLeases(
      ReleaseLeasesRequest request, StreamObserver<ReleaseLeasesResponse> out) {
    int released = dispatcher.release(request.getWorkerId(), request.getLeaseIdsList());
    out.onNext(ReleaseLeasesResponse.newBuilder().setReleased(released).build());
    out.onCompleted();
  }

  @Override
  public StreamObserver<TrajectorySubmission> submitTrajectories(
      StreamObserver<SubmissionAck> out) {
    return new StreamObserver<>() {
      @Override
      public void onNext(TrajectorySubmission submission) {
        SubmissionAck.Builder ack =
            SubmissionAck.newBuilder()
                .setLeaseId(submission.getLeaseId())
                .setTrajectoryId(submission.getTrajectory().getTrajectoryId());
        if (submission.getLeaseId().isEmpty() || !submission.hasTrajectory()) {
          ack.setAccepted(false).setMessage("lease_id and trajectory are required");
        } else {
          Dispatcher.Ack result =
              dispatcher.submit(submission.getLeaseId(), submission.getTrajectory());
          ack.setAccepted(result.accepted()).setMessage(result.message());
        }
        synchronized (out) {
          out.onNext(ack.build());
        }
      }

      @Override
      public void onError(Throwable t) {
        // The worker went away; nothing to clean up (unacknowledged work is re-leased on expiry).
      }

      @Override
      public void onCompleted() {
        synchronized (out) {
          out.onCompleted();
        }
      }
    };
  }

  @Override
  public void getRunStatus(GetRunStatusRequest request, StreamObserver<RunStatus> out) {
    out.onNext(status.get());
    out.onCompleted();
  }

  private static RuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}

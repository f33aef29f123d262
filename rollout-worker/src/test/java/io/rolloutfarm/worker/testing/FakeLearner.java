package io.rolloutfarm.worker.testing;

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
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A learner that hands out a fixed list of tasks and records what workers do with them. When the
 * queue is empty it says the run is finished.
 */
public class FakeLearner extends LearnerServiceGrpc.LearnerServiceImplBase {
  public final Queue<Task> queue = new ConcurrentLinkedQueue<>();
  public final Map<String, Task> leased = new ConcurrentHashMap<>();
  public final List<String> released = new CopyOnWriteArrayList<>();
  public final List<String> releaseReasons = new CopyOnWriteArrayList<>();
  public final List<List<String>> renewals = new CopyOnWriteArrayList<>();
  public final List<TrajectorySubmission> submissions = new CopyOnWriteArrayList<>();
  public final Set<String> expireOnRenew = ConcurrentHashMap.newKeySet();
  private final AtomicInteger ids = new AtomicInteger();

  public FakeLearner(List<Task> tasks) {
    queue.addAll(tasks);
  }

  @Override
  public void leaseTasks(LeaseTasksRequest req, StreamObserver<LeaseTasksResponse> out) {
    LeaseTasksResponse.Builder r = LeaseTasksResponse.newBuilder();
    for (int i = 0; i < req.getMaxTasks(); i++) {
      Task t = queue.poll();
      if (t == null) {
        break;
      }
      String id = "L" + ids.incrementAndGet();
      leased.put(id, t);
      r.addLeases(
          TaskLease.newBuilder()
              .setLeaseId(id)
              .setTask(t)
              .setDeadlineUnixMs(System.currentTimeMillis() + 60_000));
    }
    r.setRunFinished(queue.isEmpty() && r.getLeasesCount() == 0).setRetryAfterMs(20);
    out.onNext(r.build());
    out.onCompleted();
  }

  @Override
  public void renewLeases(RenewLeasesRequest req, StreamObserver<RenewLeasesResponse> out) {
    renewals.add(req.getLeaseIdsList());
    RenewLeasesResponse.Builder r =
        RenewLeasesResponse.newBuilder().setDeadlineUnixMs(System.currentTimeMillis() + 60_000);
    for (String id : req.getLeaseIdsList()) {
      if (expireOnRenew.contains(id)) {
        r.addExpiredLeaseIds(id);
      }
    }
    out.onNext(r.build());
    out.onCompleted();
  }

  @Override
  public void releaseLeases(ReleaseLeasesRequest req, StreamObserver<ReleaseLeasesResponse> out) {
    released.addAll(req.getLeaseIdsList());
    releaseReasons.add(req.getReason());
    out.onNext(ReleaseLeasesResponse.newBuilder().setReleased(req.getLeaseIdsCount()).build());
    out.onCompleted();
  }

  @Override
  public StreamObserver<TrajectorySubmission> submitTrajectories(
      StreamObserver<SubmissionAck> acks) {
    return new StreamObserver<>() {
      @Override
      public void onNext(TrajectorySubmission s) {
        submissions.add(s);
        synchronized (acks) {
          acks.onNext(
              SubmissionAck.newBuilder()
                  .setLeaseId(s.getLeaseId())
                  .setTrajectoryId(s.getTrajectory().getTrajectoryId())
                  .setAccepted(leased.containsKey(s.getLeaseId()))
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
}

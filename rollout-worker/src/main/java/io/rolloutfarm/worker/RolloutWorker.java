package io.rolloutfarm.worker;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc.LearnerServiceBlockingStub;
import io.rolloutfarm.proto.v1.LeaseTasksRequest;
import io.rolloutfarm.proto.v1.LeaseTasksResponse;
import io.rolloutfarm.proto.v1.ReleaseLeasesRequest;
import io.rolloutfarm.proto.v1.RenewLeasesRequest;
import io.rolloutfarm.proto.v1.RenewLeasesResponse;
import io.rolloutfarm.proto.v1.SubmissionAck;
import io.rolloutfarm.proto.v1.TaskLease;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.TrajectorySubmission;
import io.rolloutfarm.worker.agent.AgentLoop;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.sandbox.Sandboxes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A rollout worker: leases tasks from the learner, runs the agent loop for each on its own virtual
 * thread (so a thousand concurrent trajectories cost a thousand small stacks, not a thousand
 * platform threads), streams the trajectories back and keeps its leases alive while it works.
 * {@link #close()} cancels unfinished trajectories and releases their leases so the learner can
 * hand the tasks to another worker at once instead of waiting for the leases to expire.
 *
 * <p>Runs the same in a pod ({@code farm worker}) and inside a local farm process.
 */
public final class RolloutWorker implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(RolloutWorker.class.getName());
  private static final Duration RPC_DEADLINE = Duration.ofSeconds(30);

  private final WorkerConfig config;
  private final LearnerServiceBlockingStub learner;
  private final TrajectoryStream stream;
  private final AgentLoop loop;
  private final WorkerMetrics metrics;
  private final List<AutoCloseable> owned = new ArrayList<>();
  private final Semaphore slots;
  private final Map<String, Active> active = new ConcurrentHashMap<>();
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile boolean running;
  private volatile boolean runFinished;
  private volatile boolean closed;
  private Thread leaseThread;
  private Thread renewThread;

  /** A lease this worker holds, with the thread working on it (null once submitted). */
  private static final class Active {
    final TaskLease lease;
    volatile Thread thread;
    volatile boolean submitted;

    Active(TaskLease lease) {
      this.lease = lease;
    }
  }

  /**
   * A worker over channels and backends the caller owns (in-process farms, tests).
   *
   * @param learnerChannel channel to the learner's {@code LearnerService}
   */
  public RolloutWorker(
      WorkerConfig config,
      Channel learnerChannel,
      Policy policy,
      Sandboxes sandboxes,
      WorkerMetrics metrics) {
    this.config = config;
    this.learner = LearnerServiceGrpc.newBlockingStub(learnerChannel);
    this.stream = new TrajectoryStream(LearnerServiceGrpc.newStub(learnerChannel), this::acked);
    this.loop = new AgentLoop(policy, sandboxes, config.agent(), metrics);
    this.metrics = metrics;
    this.slots = new Semaphore(config.concurrency());
  }

  /** Makes the worker close these (channels, policy, sandboxes it was built with) on close. */
  public RolloutWorker owning(AutoCloseable... resources) {
    owned.addAll(List.of(resources));
    return this;
  }

  /** A plaintext channel to {@code host:port} or any gRPC target. */
  public static ManagedChannel channel(String target) {
    return NettyChannelBuilder.forTarget(target).usePlaintext().build();
  }

  public WorkerConfig config() {
    return config;
  }

  public WorkerMetrics metrics() {
    return metrics;
  }

  /** Starts leasing and working. */
  public synchronized RolloutWorker start() {
    if (running || closed) {
      throw new IllegalStateException(closed ? "worker is closed" : "worker already started");
    }
    running = true;
    leaseThread = Thread.ofVirtual().name("lease-loop").start(this::leaseLoop);
    renewThread = Thread.ofVirtual().name("lease-renewal").start(this::renewLoop);
    return this;
  }

  /** Leases currently held (working or waiting for acknowledgement). */
  public int heldLeases() {
    return active.size();
  }

  /**
   * Waits until the learner has said the run is finished and every leased task is submitted and
   * acknowledged.
   */
  public boolean awaitRunFinished(Duration timeout) throws InterruptedException {
    return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void leaseLoop() {
    long backoff = 100;
    while (running) {
      int wanted;
      try {
        slots.acquire();
        wanted = 1 + slots.drainPermits();
      } catch (InterruptedException e) {
        return;
      }
      LeaseTasksResponse response;
      try {
        response =
            learner
                .withDeadlineAfter(config.leaseWait().plus(RPC_DEADLINE))
                .leaseTasks(
                    LeaseTasksRequest.newBuilder()
                        .setWorkerId(config.workerId())
                        .setMaxTasks(wanted)
                        .setWaitMs((int) config.leaseWait().toMillis())
                        .build());
        backoff = 100;
      } catch (StatusRuntimeException e) {
        slots.release(wanted);
        if (!running) {
          return;
        }
        LOG.log(
            Level.WARNING,
            "LeaseTasks failed, retrying in {0} ms: {1}",
            new Object[] {backoff, e.getStatus()});
        if (!sleep(backoff)) {
          return;
        }
        backoff = Math.min(5000, backoff * 2);
        continue;
      }
      int granted = response.getLeasesCount();
      slots.release(wanted - Math.min(wanted, granted));
      // Under the lock close() takes: leases granted while the worker closes are handed back
      // instead of starting trajectories that close() would never see.
      boolean closing;
      synchronized (this) {
        closing = closed;
        if (!closing) {
          for (TaskLease lease : response.getLeasesList()) {
            Active a = new Active(lease);
            active.put(lease.getLeaseId(), a);
            a.thread = Thread.ofVirtual().name("trajectory-", 0).unstarted(() -> work(a));
            a.thread.start();
          }
        }
      }
      if (closing) {
        List<String> late = response.getLeasesList().stream().map(TaskLease::getLeaseId).toList();
        if (!late.isEmpty()) {
          Thread.interrupted(); // close() interrupted this thread; the release must still go out
          release(late, "shutdown");
        }
        return;
      }
      if (response.getRunFinished()) {
        runFinished = true;
        checkFinished();
        return;
      }
      if (granted == 0 && !sleep(Math.max(50, response.getRetryAfterMs()))) {
        return;
      }
    }
  }

  private void work(Active a) {
    metrics.started();
    boolean recorded = false;
    try {
      Trajectory trajectory = loop.run(a.lease.getTask());
      // Recorded before submitting: the learner's ack can finish the run before this thread
      // gets past submit(), and a finished run must count every trajectory it was sent.
      metrics.finished(trajectory);
      recorded = true;
      if (!closed && active.containsKey(a.lease.getLeaseId())) {
        a.submitted = true;
        stream.submit(
            TrajectorySubmission.newBuilder()
                .setLeaseId(a.lease.getLeaseId())
                .setWorkerId(config.workerId())
                .setTrajectory(trajectory)
                .build());
      }
    } catch (CancellationException e) {
      // Shutdown or lost lease: close() or the renewal loop releases or dropped the lease.
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "task " + a.lease.getTask().getTaskId() + " failed in the worker", e);
      active.remove(a.lease.getLeaseId());
      release(List.of(a.lease.getLeaseId()), "worker error: " + e);
    } finally {
      a.thread = null;
      if (!recorded) {
        metrics.finished(null);
      }
      slots.release();
    }
  }

  private void acked(SubmissionAck ack) {
    active.remove(ack.getLeaseId());
    if (!ack.getAccepted()) {
      LOG.log(
          Level.WARNING,
          "learner rejected trajectory {0} of lease {1}: {2}",
          new Object[] {ack.getTrajectoryId(), ack.getLeaseId(), ack.getMessage()});
    }
    checkFinished();
  }

  private void checkFinished() {
    if (runFinished && active.isEmpty()) {
      finished.countDown();
    }
  }

  private void renewLoop() {
    while (running) {
      if (!sleep(config.renewInterval().toMillis())) {
        return;
      }
      List<String> ids = new ArrayList<>(active.keySet());
      if (ids.isEmpty()) {
        continue;
      }
      try {
        RenewLeasesResponse response =
            learner
                .withDeadlineAfter(RPC_DEADLINE)
                .renewLeases(
                    RenewLeasesRequest.newBuilder()
                        .setWorkerId(config.workerId())
                        .addAllLeaseIds(ids)
                        .build());
        for (String expired : response.getExpiredLeaseIdsList()) {
          Active a = active.remove(expired);
          if (a != null) {
            LOG.log(Level.WARNING, "lease {0} expired; dropping its trajectory", expired);
            Thread t = a.thread;
            if (t != null) {
              t.interrupt();
            }
          }
        }
        checkFinished();
      } catch (StatusRuntimeException e) {
        LOG.log(Level.WARNING, "RenewLeases failed: {0}", e.getStatus());
      }
    }
  }

  private void release(List<String> leaseIds, String reason) {
    if (leaseIds.isEmpty()) {
      return;
    }
    try {
      learner
          .withDeadlineAfter(RPC_DEADLINE)
          .releaseLeases(
              ReleaseLeasesRequest.newBuilder()
                  .setWorkerId(config.workerId())
                  .addAllLeaseIds(leaseIds)
                  .setReason(reason)
                  .build());
    } catch (StatusRuntimeException e) {
      LOG.log(
          Level.WARNING,
          "ReleaseLeases of {0} lease(s) failed ({1}); they expire on their own",
          new Object[] {leaseIds.size(), e.getStatus()});
    }
  }

  private static boolean sleep(long ms) {
    try {
      Thread.sleep(ms);
      return true;
    } catch (InterruptedException e) {
      return false;
    }
  }

  /**
   * Stops leasing, cancels unfinished trajectories, waits up to the shutdown grace for submitted
   * ones to be acknowledged, releases every lease still held and closes what the worker owns.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      running = false;
    }
    if (leaseThread != null) {
      leaseThread.interrupt();
      renewThread.interrupt();
    }
    List<Thread> workers = new ArrayList<>();
    for (Active a : active.values()) {
      Thread t = a.thread;
      if (t != null && !a.submitted) {
        t.interrupt();
        workers.add(t);
      }
    }
    long deadline = System.nanoTime() + config.shutdownGrace().toNanos();
    try {
      for (Thread t : workers) {
        t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      }
      stream.awaitDrained(Math.max(0, (deadline - System.nanoTime()) / 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<String> held = new ArrayList<>(active.keySet());
    release(held, "shutdown");
    if (!held.isEmpty()) {
      LOG.log(Level.INFO, "released {0} lease(s) on shutdown", held.size());
    }
    active.clear();
    stream.close();
    for (AutoCloseable resource : owned.reversed()) {
      try {
        resource.close();
      } catch (Exception e) {
        LOG.log(Level.WARNING, "closing " + resource, e);
      }
    }
    finished.countDown();
  }
}

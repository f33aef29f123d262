package io.rolloutfarm.learner.testing;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.GenerateRequest;
import io.rolloutfarm.proto.v1.GenerateResponse;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import io.rolloutfarm.proto.v1.LeaseTasksRequest;
import io.rolloutfarm.proto.v1.LeaseTasksResponse;
import io.rolloutfarm.proto.v1.PolicyServiceGrpc;
import io.rolloutfarm.proto.v1.RewardBreakdown;
import io.rolloutfarm.proto.v1.SamplingParams;
import io.rolloutfarm.proto.v1.SubmissionAck;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.TaskLease;
import io.rolloutfarm.proto.v1.TokenizeRequest;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.TrajectorySubmission;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;

/**
 * A rollout worker for tests: leases tasks over gRPC, generates one turn through PolicyService,
 * scores it with {@code reward} and submits it. Deterministic for a given task (the reward and the
 * tokens depend only on the task), so runs can be compared.
 */
public final class ScriptedWorker implements AutoCloseable {
  private final ManagedChannel channel;
  private final String id;
  private final Scorer reward;
  private final int maxNewTokens;

  /** Scores one rollout from its task and the policy's answer. */
  @FunctionalInterface
  public interface Scorer {
    double score(Task task, GenerateResponse generated);
  }

  private final AtomicBoolean stop = new AtomicBoolean();
  private final Thread thread;
  public final AtomicInteger submitted = new AtomicInteger();
  public final AtomicInteger rejected = new AtomicInteger();
  public volatile boolean sawRunFinished;

  public ScriptedWorker(String id, int port, ToDoubleFunction<Task> reward) {
    this(id, port, 8, (task, generated) -> reward.applyAsDouble(task));
  }

  /** A worker whose reward depends on what the policy generated (seeded per task). */
  public ScriptedWorker(String id, int port, int maxNewTokens, Scorer reward) {
    this.id = id;
    this.reward = reward;
    this.maxNewTokens = maxNewTokens;
    this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    this.thread = Thread.ofPlatform().daemon().name("worker-" + id).start(this::loop);
  }

  private void loop() {
    var learner = LearnerServiceGrpc.newBlockingStub(channel);
    var policy = PolicyServiceGrpc.newBlockingStub(channel);
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!stop.get() && System.nanoTime() < giveUp) {
      try {
        LeaseTasksResponse leases =
            learner
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .leaseTasks(
                    LeaseTasksRequest.newBuilder()
                        .setWorkerId(id)
                        .setMaxTasks(2)
                        .setWaitMs(200)
                        .build());
        if (leases.getRunFinished()) {
          sawRunFinished = true;
          return;
        }
        List<TrajectorySubmission> out = new ArrayList<>();
        for (TaskLease lease : leases.getLeasesList()) {
          out.add(
              TrajectorySubmission.newBuilder()
                  .setLeaseId(lease.getLeaseId())
                  .setWorkerId(id)
                  .setTrajectory(rollout(policy, lease.getTask()))
                  .build());
        }
        if (!out.isEmpty()) {
          submit(out);
        }
      } catch (StatusRuntimeException e) {
        sleep(50); // learner restarting or gone; try again until stopped
      }
    }
  }

  private Trajectory rollout(PolicyServiceGrpc.PolicyServiceBlockingStub policy, Task task) {
    List<Integer> prompt = new ArrayList<>();
    prompt.add(1);
    prompt.addAll(
        policy
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .tokenize(TokenizeRequest.newBuilder().setText(task.getQuestion()).build())
            .getTokenIdsList());
    GenerateResponse gen =
        policy
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .generate(
                GenerateRequest.newBuilder()
                    .addAllPromptTokenIds(prompt)
                    .setParams(
                        SamplingParams.newBuilder()
                            .setTemperature(1)
                            .setMaxNewTokens(maxNewTokens)
                            // Seeded by the task, so a rollout does not depend on batching.
                            .setSeed(1 + (task.getTaskId().hashCode() & 0x7fffffffL)))
                    .setRequestId(task.getTaskId())
                    .build());
    Trajectory.Builder t =
        Trajectory.newBuilder()
            .setTrajectoryId(task.getTaskId())
            .setTaskId(task.getTaskId())
            .setPromptId(task.getPromptId())
            .setGroupIndex(task.getGroupIndex())
            .setPolicyVersion(gen.getPolicyVersion())
            .setPromptTokens(prompt.size())
            .setEndReason(EndReason.END_REASON_DONE)
            .setToolCalls(task.getGroupIndex() % 2)
            .setAttempt(task.getAttempt());
    for (int tok : prompt) {
      t.addTokenIds(tok).addLossMask(0).addLogprobs(0);
    }
    // Vary the generated tokens by group index so every member is its own sequence.
    t.addTokenIds(100 + task.getGroupIndex()).addLossMask(1).addLogprobs(-0.25f);
    for (int i = 0; i < gen.getTokenIdsCount(); i++) {
      t.addTokenIds(gen.getTokenIds(i)).addLossMask(1).addLogprobs(gen.getLogprobs(i));
    }
    double r = reward.score(task, gen);
    return t.setReward(RewardBreakdown.newBuilder().setTotal(r).setAccuracy(r >= 1 ? 1 : 0))
        .build();
  }

  private void submit(List<TrajectorySubmission> submissions) {
    var stub = LearnerServiceGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    StreamObserver<TrajectorySubmission> in =
        stub.submitTrajectories(
            new StreamObserver<>() {
              @Override
              public void onNext(SubmissionAck ack) {
                if (ack.getAccepted()) {
                  submitted.incrementAndGet();
                } else {
                  rejected.incrementAndGet();
                }
              }

              @Override
              public void onError(Throwable t) {
                done.countDown();
              }

              @Override
              public void onCompleted() {
                done.countDown();
              }
            });
    for (TrajectorySubmission s : submissions) {
      in.onNext(s);
    }
    in.onCompleted();
    try {
      done.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits for the worker to stop by itself (run finished). */
  public boolean join(long millis) throws InterruptedException {
    thread.join(millis);
    return !thread.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    thread.join(10_000);
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}

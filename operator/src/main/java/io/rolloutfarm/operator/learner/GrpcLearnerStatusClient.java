package io.rolloutfarm.operator.learner;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.operator.Names;
import io.rolloutfarm.proto.v1.GetRunStatusRequest;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** One plaintext channel per learner Service; every call has a deadline. */
@ApplicationScoped
public class GrpcLearnerStatusClient implements LearnerStatusClient {
  private static final long DEADLINE_MS = 2000;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  @Override
  public LearnerObservation observe(TrainingRun run) {
    String target = Names.learnerTarget(run);
    ManagedChannel channel =
        channels.computeIfAbsent(
            target, t -> NettyChannelBuilder.forTarget(t).usePlaintext().build());
    try {
      return new LearnerObservation.Reachable(
          LearnerServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
              .getRunStatus(GetRunStatusRequest.getDefaultInstance()));
    } catch (StatusRuntimeException e) {
      return new LearnerObservation.Unreachable(
          target + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
    }
  }

  @Override
  public void forget(TrainingRun run) {
    ManagedChannel channel = channels.remove(Names.learnerTarget(run));
    if (channel != null) {
      channel.shutdownNow();
    }
  }

  @PreDestroy
  void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}

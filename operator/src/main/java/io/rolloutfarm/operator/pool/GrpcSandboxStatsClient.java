package io.rolloutfarm.operator.pool;

import io.fabric8.kubernetes.api.model.Pod;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.proto.v1.GetStatsRequest;
import io.rolloutfarm.proto.v1.SandboxServiceGrpc;
import io.rolloutfarm.proto.v1.SandboxStats;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Asks a pod directly (by IP: the pool Service is headless and would pick an arbitrary pod). A
 * channel lives for one call; pods come and go and calls happen once per scaling interval.
 */
@ApplicationScoped
public class GrpcSandboxStatsClient implements SandboxStatsClient {
  private static final Logger LOG = Logger.getLogger(GrpcSandboxStatsClient.class);
  private static final long DEADLINE_MS = 1000;

  @Override
  public Optional<SandboxStats> stats(Pod pod) {
    String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
    if (ip == null || ip.isEmpty()) {
      return Optional.empty();
    }
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(ip, OperatorSettings.GRPC_PORT).usePlaintext().build();
    try {
      return Optional.of(
          SandboxServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
              .getStats(GetStatsRequest.getDefaultInstance()));
    } catch (StatusRuntimeException e) {
      LOG.debugf("GetStats of %s (%s) failed: %s", pod.getMetadata().getName(), ip, e.getStatus());
      return Optional.empty();
    } finally {
      channel.shutdownNow();
    }
  }
}

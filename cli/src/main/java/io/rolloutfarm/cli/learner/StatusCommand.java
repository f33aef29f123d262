package io.rolloutfarm.cli.learner;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.proto.v1.GetRunStatusRequest;
import io.rolloutfarm.proto.v1.LearnerServiceGrpc;
import io.rolloutfarm.proto.v1.RunStatus;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code farm status}: a learner's RunStatus, as the operator reads it. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Print a running learner's status (LearnerService.GetRunStatus).",
      "Phase, step, policy version, health, leases, trajectories accepted and",
      "the latest per-step metrics."
    })
public final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--learner",
      defaultValue = "127.0.0.1:50051",
      paramLabel = "HOST:PORT",
      description = "The learner's LearnerService (default: ${DEFAULT-VALUE}).")
  String learner;

  @Option(names = "--json", description = "Print the status as JSON (protobuf JSON mapping).")
  boolean json;

  @Option(
      names = "--timeout-seconds",
      defaultValue = "10",
      description = "RPC deadline (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws InvalidProtocolBufferException, InterruptedException {
    if (timeoutSeconds < 1) {
      throw new UserError("--timeout-seconds: must be at least 1, got " + timeoutSeconds);
    }
    ManagedChannel channel;
    try {
      channel = NettyChannelBuilder.forTarget(learner).usePlaintext().build();
    } catch (IllegalArgumentException e) {
      throw new UserError("--learner: not a HOST:PORT target: '" + learner + "'");
    }
    RunStatus status;
    try {
      status =
          LearnerServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS)
              .getRunStatus(GetRunStatusRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      throw new UserError(
          "cannot read the run status from "
              + learner
              + ": "
              + e.getStatus().getCode()
              + (e.getStatus().getDescription() == null
                  ? ""
                  : " (" + e.getStatus().getDescription() + ")"));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(JsonFormat.printer().print(status));
    } else {
      print(out, status);
    }
    out.flush();
    return 0;
  }

  static void print(PrintWriter out, RunStatus s) {
    out.printf(
        Locale.ROOT,
        "phase %s  step %d/%d  policy version %d  %s%n",
        s.getPhase().name().replace("RUN_PHASE_", ""),
        s.getStep(),
        s.getTotalSteps(),
        s.getPolicyVersion(),
        s.getHealthy() ? "healthy" : "UNHEALTHY");
    out.printf(
        Locale.ROOT,
        "active leases %d  trajectories accepted %d  at %s%n",
        s.getActiveLeases(),
        s.getTrajectoriesAccepted(),
        Instant.ofEpochMilli(s.getUpdatedUnixMs()));
    if (!s.getMessage().isEmpty()) {
      out.println("message: " + s.getMessage());
    }
    Map<String, Double> metrics = new TreeMap<>(s.getMetricsMap());
    int width = metrics.keySet().stream().mapToInt(String::length).max().orElse(0);
    for (Map.Entry<String, Double> e : metrics.entrySet()) {
      out.printf(Locale.ROOT, "  %-" + width + "s  %.6g%n", e.getKey(), e.getValue());
    }
  }
}

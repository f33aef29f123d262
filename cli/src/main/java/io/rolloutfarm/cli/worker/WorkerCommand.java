package io.rolloutfarm.cli.worker;

import io.grpc.ManagedChannel;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.cli.UserError;
import io.rolloutfarm.worker.MetricsServer;
import io.rolloutfarm.worker.RolloutWorker;
import io.rolloutfarm.worker.WorkerConfig;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.policy.OpenAiChatPolicy;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.policy.PolicyBackends;
import io.rolloutfarm.worker.sandbox.GrpcSandboxes;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code farm worker}: a rollout worker process (what runs in a worker pod). */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    header = "Run a rollout worker: lease tasks, drive agent loops, stream scored trajectories.",
    description = {
      "Run a rollout worker: lease tasks from the learner, drive the agent loops against the",
      "policy and the sandboxes, and stream scored trajectories back. Leases are released on",
      "shutdown (SIGTERM). Exits when the learner says the run is finished."
    })
public final class WorkerCommand implements Callable<Integer> {
  @Option(
      names = "--run",
      required = true,
      paramLabel = "FILE",
      description = "TrainingRun YAML (agent loop settings: spec.algorithm).")
  Path run;

  @Option(
      names = "--learner",
      required = true,
      paramLabel = "HOST:PORT",
      description = "The learner's LearnerService.")
  String learner;

  @Option(
      names = "--sandbox",
      required = true,
      paramLabel = "TARGET",
      description =
          "Sandbox servers: HOST:PORT[,HOST:PORT...] or dns:///NAME:PORT (every address behind the name is used, round-robin).")
  String sandbox;

  @Option(
      names = "--policy",
      paramLabel = "SPEC",
      description =
          "Policy: HOST:PORT (PolicyService; default: the --learner address), scripted:FILE, or openai:URL (evaluation only).")
  String policy;

  @Option(
      names = "--policy-model",
      paramLabel = "NAME",
      description = "Model name for openai:URL policies.")
  String policyModel;

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      description = "Concurrent trajectories (default: spec.rolloutWorkers.concurrency).")
  Integer concurrency;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description = "Serve Prometheus metrics at http://0.0.0.0:PORT/metrics.")
  Integer metricsPort;

  @Option(
      names = "--worker-id",
      paramLabel = "ID",
      description = "Id reported to the learner (default: $HOSTNAME or pid@host).")
  String workerId;

  @Option(
      names = "--max-infra-retries",
      paramLabel = "N",
      defaultValue = "2",
      description =
          "Restarts of a trajectory broken by the sandbox or policy (default: ${DEFAULT-VALUE}).")
  int maxInfraRetries;

  @Override
  public Integer call() throws Exception {
    RunFile runFile;
    try {
      runFile = RunFile.load(run);
    } catch (RunFile.InvalidRunFileException e) {
      throw new UserError(e.getMessage());
    }
    AgentSettings agent;
    GrpcSandboxes sandboxes;
    try {
      agent = AgentSettings.from(runFile).withMaxInfraRetries(maxInfraRetries);
      sandboxes = GrpcSandboxes.connect(sandbox, GrpcSandboxes.Deadlines.defaults(), 0);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    int n = concurrency != null ? concurrency : runFile.run().getSpec().rolloutWorkers.concurrency;
    if (n < 1) {
      throw new UserError("--concurrency must be at least 1, got " + n);
    }
    String policySpec = policy != null ? policy : learner;
    Policy backend;
    try {
      backend = PolicyBackends.open(policySpec, policyModel);
    } catch (PolicyFailure e) {
      sandboxes.close();
      throw new UserError("cannot reach the policy at " + policySpec + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      sandboxes.close();
      throw new UserError(e.getMessage());
    }
    if (!backend.facts().trainable()) {
      System.err.println(
          "farm: warning: "
              + backend.describe()
              + (backend instanceof OpenAiChatPolicy
                  ? ": " + OpenAiChatPolicy.EVALUATION_ONLY
                  : ": not trainable (no exact token ids and logprobs); use for evaluation only"));
    }
    PrometheusMeterRegistry registry = MetricsServer.newRegistry();
    MetricsServer metricsServer = null;
    if (metricsPort != null) {
      try {
        metricsServer = new MetricsServer(registry, metricsPort);
      } catch (IOException e) {
        throw new UserError("--metrics-port " + metricsPort + ": cannot listen: " + e.getMessage());
      }
    }
    ManagedChannel learnerChannel = RolloutWorker.channel(learner);
    WorkerConfig config =
        WorkerConfig.of(workerId != null ? workerId : WorkerConfig.defaultWorkerId(), n, agent);
    RolloutWorker worker =
        new RolloutWorker(config, learnerChannel, backend, sandboxes, new WorkerMetrics(registry))
            .owning(backend, sandboxes, learnerChannel::shutdownNow);
    if (metricsServer != null) {
      worker.owning(metricsServer);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "worker-shutdown"));
    worker.start();
    System.err.printf(
        "farm: worker %s: %d concurrent trajectories; learner %s; %s; sandboxes %s%s%n",
        config.workerId(),
        n,
        learner,
        backend.describe(),
        sandboxes.describe(),
        metricsServer != null ? "; metrics on :" + metricsServer.port() + "/metrics" : "");
    while (!worker.awaitRunFinished(Duration.ofMinutes(1))) {
      // keep working until the learner says the run is finished
    }
    worker.close();
    System.err.println("farm: worker " + config.workerId() + ": the run is finished");
    return 0;
  }
}

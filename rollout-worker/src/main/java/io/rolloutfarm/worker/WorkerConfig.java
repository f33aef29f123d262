package io.rolloutfarm.worker;

import io.rolloutfarm.worker.agent.AgentSettings;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * Settings of one rollout worker.
 *
 * @param workerId stable id the learner knows this worker by (pod name, or host and pid)
 * @param concurrency trajectories driven at once
 * @param agent the agent loop's settings
 * @param renewInterval how often held leases are renewed; keep it well below the learner's lease
 *     duration
 * @param leaseWait how long one LeaseTasks call may wait for tasks to become available
 * @param shutdownGrace how long {@link RolloutWorker#close()} waits for in-flight submissions to be
 *     acknowledged before it releases what is left
 */
public record WorkerConfig(
    String workerId,
    int concurrency,
    AgentSettings agent,
    Duration renewInterval,
    Duration leaseWait,
    Duration shutdownGrace) {

  public WorkerConfig {
    if (workerId == null || workerId.isBlank()) {
      throw new IllegalArgumentException("workerId must not be empty");
    }
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
    }
  }

  /** A config with the usual intervals. */
  public static WorkerConfig of(String workerId, int concurrency, AgentSettings agent) {
    return new WorkerConfig(
        workerId,
        concurrency,
        agent,
        Duration.ofSeconds(10),
        Duration.ofSeconds(2),
        Duration.ofSeconds(10));
  }

  /** A config with other lease intervals. */
  public WorkerConfig withIntervals(Duration renew, Duration wait, Duration grace) {
    return new WorkerConfig(workerId, concurrency, agent, renew, wait, grace);
  }

  /** {@code HOSTNAME} (the pod name in Kubernetes), else this JVM's {@code pid@host}. */
  public static String defaultWorkerId() {
    String host = System.getenv("HOSTNAME");
    if (host != null && !host.isBlank()) {
      return host;
    }
    return ManagementFactory.getRuntimeMXBean().getName();
  }
}

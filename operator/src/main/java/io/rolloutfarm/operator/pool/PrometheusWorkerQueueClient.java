package io.rolloutfarm.operator.pool;

import io.fabric8.kubernetes.api.model.Pod;
import io.rolloutfarm.operator.OperatorSettings;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Scrapes {@code http://POD_IP:9090/metrics}; a worker that does not answer counts 0. */
@ApplicationScoped
public class PrometheusWorkerQueueClient implements WorkerQueueClient {
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private final int port;

  public PrometheusWorkerQueueClient() {
    this(OperatorSettings.METRICS_PORT);
  }

  /** Scrapes another port (tests serve metrics on a free one). */
  PrometheusWorkerQueueClient(int port) {
    this.port = port;
  }

  @Override
  public int pendingSandboxRequests(Pod worker) {
    String ip = worker.getStatus() == null ? null : worker.getStatus().getPodIP();
    if (ip == null || ip.isEmpty()) {
      return 0;
    }
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create("http://" + ip + ":" + port + "/metrics"))
                  .timeout(Duration.ofSeconds(1))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 ? parse(response.body()) : 0;
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  /** Sums the gauge over its label sets in Prometheus text format. */
  static int parse(String text) {
    double sum = 0;
    for (String line : text.split("\n")) {
      if (line.startsWith(METRIC + " ") || line.startsWith(METRIC + "{")) {
        int labelsEnd = line.lastIndexOf('}');
        String rest =
            labelsEnd >= 0 ? line.substring(labelsEnd + 1) : line.substring(METRIC.length());
        // "value [timestamp]"
        String[] parts = rest.trim().split("\\s+");
        try {
          sum += Double.parseDouble(parts[0]);
        } catch (NumberFormatException ignored) {
          // A malformed sample is skipped, like Prometheus would reject it.
        }
      }
    }
    return (int) Math.round(sum);
  }
}

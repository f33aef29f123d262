package io.rolloutfarm.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One reinforcement-learning run: the learner, its rollout workers and sandboxes. The operator
 * builds it on a cluster; {@code ./farm run} runs the same resource on one machine.
 */
@Group(TrainingRun.GROUP)
@Version(TrainingRun.VERSION)
@Kind("TrainingRun")
@Plural("trainingruns")
@ShortNames("tr")
@AdditionalPrinterColumn(
    name = "Ready",
    type = Type.STRING,
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(
    name = "Reason",
    type = Type.STRING,
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    priority = 1)
@AdditionalPrinterColumn(name = "Step", type = Type.INTEGER, jsonPath = ".status.step")
@AdditionalPrinterColumn(
    name = "Total",
    type = Type.INTEGER,
    jsonPath = ".spec.totalSteps",
    priority = 1)
@AdditionalPrinterColumn(name = "Reward", type = Type.NUMBER, jsonPath = ".status.rewardMean")
@AdditionalPrinterColumn(
    name = "Sandboxes",
    type = Type.INTEGER,
    jsonPath = ".status.sandboxReplicas")
@AdditionalPrinterColumn(name = "Age", type = Type.DATE, jsonPath = ".metadata.creationTimestamp")
public class TrainingRun extends CustomResource<TrainingRunSpec, TrainingRunStatus>
    implements Namespaced {
  public static final String GROUP = "rolloutfarm.io";
  public static final String VERSION = "v1alpha1";
}

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

/** An autoscaled pool of sandbox pods that one or more runs execute code in. */
@Group(TrainingRun.GROUP)
@Version(TrainingRun.VERSION)
@Kind("SandboxPool")
@Plural("sandboxpools")
@ShortNames("sbp")
@AdditionalPrinterColumn(
    name = "Desired",
    type = Type.INTEGER,
    jsonPath = ".status.desiredReplicas")
@AdditionalPrinterColumn(name = "Ready", type = Type.INTEGER, jsonPath = ".status.readyReplicas")
@AdditionalPrinterColumn(name = "Busy", type = Type.INTEGER, jsonPath = ".status.busySessions")
@AdditionalPrinterColumn(name = "Age", type = Type.DATE, jsonPath = ".metadata.creationTimestamp")
public class SandboxPool extends CustomResource<SandboxPoolSpec, SandboxPoolStatus>
    implements Namespaced {}

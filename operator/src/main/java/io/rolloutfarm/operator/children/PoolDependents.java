package io.rolloutfarm.operator.children;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.SandboxPoolSpec;
import io.rolloutfarm.operator.Labels;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.kube.ChildApplier;
import java.util.Map;

/**
 * Desired state of a pool's children: the sandbox Deployment, a headless Service (workers resolve
 * every pod and spread sessions across them), a PodDisruptionBudget and a NetworkPolicy.
 *
 * <p>Sandboxes run model-written code, so their pods are locked down: non-root, read-only root
 * filesystem with emptyDir scratch space, seccomp RuntimeDefault, no capabilities, no
 * service-account token, no egress at all and ingress only from the workers that use the pool (and
 * the operator, which reads their load for autoscaling).
 */
public final class PoolDependents {
  /** UID of the unprivileged user of the sandbox image (sandbox-pod/Dockerfile). */
  public static final long SANDBOX_UID = 10001;

  private final OperatorSettings settings;

  public PoolDependents(OperatorSettings settings) {
    this.settings = settings;
  }

  public Deployment deployment(SandboxPool pool, int replicas) {
    SandboxPoolSpec spec = pool.getSpec();
    Map<String, String> labels = Labels.forPool(pool);
    return ChildApplier.ownedBy(
        new DeploymentBuilder()
            .withNewMetadata()
            .withName(pool.getMetadata().getName())
            .withLabels(labels)
            .endMetadata()
            .withNewSpec()
            .withReplicas(replicas)
            .withNewSelector()
            .withMatchLabels(Labels.selectorForPool(pool))
            .endSelector()
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(labels)
            .endMetadata()
            .withNewSpec()
            .withRuntimeClassName(spec.runtimeClassName)
            .withAutomountServiceAccountToken(false)
            .withEnableServiceLinks(false)
            // Running executions get time to finish before the pod goes.
            .withTerminationGracePeriodSeconds((long) spec.executeTimeoutSeconds + 10)
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .withRunAsUser(SANDBOX_UID)
            .withRunAsGroup(SANDBOX_UID)
            .withFsGroup(SANDBOX_UID)
            .withNewSeccompProfile()
            .withType("RuntimeDefault")
            .endSeccompProfile()
            .endSecurityContext()
            .withContainers(
                new ContainerBuilder()
                    .withName(Labels.SANDBOX)
                    .withImage(spec.image != null ? spec.image : settings.sandboxImage())
                    .withImagePullPolicy(settings.imagePullPolicy())
                    .withArgs(
                        "sandbox",
                        "--port",
                        Integer.toString(OperatorSettings.GRPC_PORT),
                        "--capacity",
                        Integer.toString(spec.sessionsPerPod),
                        "--metrics-port",
                        Integer.toString(OperatorSettings.METRICS_PORT))
                    .addNewPort()
                    .withName("grpc")
                    .withContainerPort(OperatorSettings.GRPC_PORT)
                    .endPort()
                    .addNewPort()
                    .withName("metrics")
                    .withContainerPort(OperatorSettings.METRICS_PORT)
                    .endPort()
                    .addNewEnv()
                    .withName("HOME")
                    .withValue("/work")
                    .endEnv()
                    .addNewEnv()
                    .withName("TMPDIR")
                    .withValue("/tmp")
                    .endEnv()
                    .withResources(spec.resources)
                    .withNewReadinessProbe()
                    .withNewTcpSocket()
                    .withNewPort("grpc")
                    .endTcpSocket()
                    .withPeriodSeconds(5)
                    .endReadinessProbe()
                    .withNewSecurityContext()
                    .withReadOnlyRootFilesystem(true)
                    .withAllowPrivilegeEscalation(false)
                    .withRunAsNonRoot(true)
                    .withNewCapabilities()
                    .addToDrop("ALL")
                    .endCapabilities()
                    .endSecurityContext()
                    .addNewVolumeMount()
                    .withName("work")
                    .withMountPath("/work")
                    .endVolumeMount()
                    .addNewVolumeMount()
                    .withName("tmp")
                    .withMountPath("/tmp")
                    .endVolumeMount()
                    .build())
            .addNewVolume()
            .withName("work")
            .withNewEmptyDir()
            .endEmptyDir()
            .endVolume()
            .addNewVolume()
            .withName("tmp")
            .withNewEmptyDir()
            .withMedium("Memory")
            .withSizeLimit(new io.fabric8.kubernetes.api.model.Quantity("256Mi"))
            .endEmptyDir()
            .endVolume()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build(),
        pool);
  }

  public Service service(SandboxPool pool) {
    return ChildApplier.ownedBy(
        new ServiceBuilder()
            .withNewMetadata()
            .withName(pool.getMetadata().getName())
            .withLabels(Labels.forPool(pool))
            .endMetadata()
            .withNewSpec()
            .withClusterIP("None")
            .withSelector(Labels.selectorForPool(pool))
            .addNewPort()
            .withName("grpc")
            .withPort(OperatorSettings.GRPC_PORT)
            .withNewTargetPort("grpc")
            .withAppProtocol("kubernetes.io/h2c")
            .endPort()
            .addNewPort()
            .withName("metrics")
            .withPort(OperatorSettings.METRICS_PORT)
            .withNewTargetPort("metrics")
            .endPort()
            .endSpec()
            .build(),
        pool);
  }

  /** Voluntary disruptions (node drains) take at most one sandbox pod at a time. */
  public PodDisruptionBudget disruptionBudget(SandboxPool pool) {
    return ChildApplier.ownedBy(
        new PodDisruptionBudgetBuilder()
            .withNewMetadata()
            .withName(pool.getMetadata().getName())
            .withLabels(Labels.forPool(pool))
            .endMetadata()
            .withNewSpec()
            .withMaxUnavailable(new IntOrString(1))
            .withNewSelector()
            .withMatchLabels(Labels.selectorForPool(pool))
            .endSelector()
            .endSpec()
            .build(),
        pool);
  }

  /**
   * Ingress to the sandbox port only from rollout workers labelled with this pool (and from the
   * operator, for GetStats); no egress at all.
   */
  public NetworkPolicy networkPolicy(SandboxPool pool) {
    return ChildApplier.ownedBy(
        new NetworkPolicyBuilder()
            .withNewMetadata()
            .withName(pool.getMetadata().getName())
            .withLabels(Labels.forPool(pool))
            .endMetadata()
            .withNewSpec()
            .withPodSelector(
                new LabelSelectorBuilder().withMatchLabels(Labels.selectorForPool(pool)).build())
            .withPolicyTypes("Ingress", "Egress")
            .addNewIngress()
            .withFrom(
                new NetworkPolicyPeerBuilder()
                    .withNewPodSelector()
                    .withMatchLabels(
                        Map.of(
                            Labels.COMPONENT,
                            Labels.WORKER,
                            Labels.POOL,
                            pool.getMetadata().getName()))
                    .endPodSelector()
                    .build())
            .withPorts(
                new NetworkPolicyPortBuilder()
                    .withProtocol("TCP")
                    .withPort(new IntOrString(OperatorSettings.GRPC_PORT))
                    .build())
            .endIngress()
            .addNewIngress()
            .withFrom(
                new NetworkPolicyPeerBuilder()
                    .withNewNamespaceSelector()
                    .endNamespaceSelector()
                    .withNewPodSelector()
                    .withMatchLabels(
                        Map.of(settings.operatorPodLabelKey(), settings.operatorPodLabelValue()))
                    .endPodSelector()
                    .build())
            .withPorts(
                new NetworkPolicyPortBuilder()
                    .withProtocol("TCP")
                    .withPort(new IntOrString(OperatorSettings.GRPC_PORT))
                    .build())
            .endIngress()
            // The metrics port is served by the Java server, never by session code, and
            // Prometheus runs wherever the cluster keeps it: any peer may scrape it.
            .addNewIngress()
            .withPorts(
                new NetworkPolicyPortBuilder()
                    .withProtocol("TCP")
                    .withPort(new IntOrString(OperatorSettings.METRICS_PORT))
                    .build())
            .endIngress()
            // No egress rules with policy type Egress: nothing leaves a sandbox pod.
            .endSpec()
            .build(),
        pool);
  }
}

package io.rolloutfarm.operator.children;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.rolloutfarm.api.v1alpha1.ResourceYaml;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.SandboxPoolSpec;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.api.v1alpha1.TrainingRunSpec;
import io.rolloutfarm.operator.Labels;
import io.rolloutfarm.operator.Names;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.kube.ChildApplier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Desired state of a run's children: the run ConfigMap, the learner StatefulSet and Service, the
 * rollout-worker Deployment and (without poolRef) the run's own SandboxPool. Pure functions of the
 * run and the operator settings, so that tests can check every field.
 */
public final class RunDependents {
  public static final String RUN_FILE = "run.yaml";
  public static final String CONFIG_DIR = "/etc/rolloutfarm";
  public static final String CHECKPOINT_DIR = "/checkpoints";
  public static final String DATA_DIR = "/data";
  public static final String WEIGHTS_DIR = "/weights";
  public static final String GPU_RESOURCE = "nvidia.com/gpu";

  /** Annotation on pod templates so that a changed run configuration rolls the pods. */
  public static final String CONFIG_HASH = "rolloutfarm.io/config-hash";

  private final OperatorSettings settings;

  public RunDependents(OperatorSettings settings) {
    this.settings = settings;
  }

  /** {@code run.yaml}: the same format {@code ./farm run FILE} reads, without status. */
  public ConfigMap configMap(TrainingRun run) {
    TrainingRun clean = new TrainingRun();
    clean.setMetadata(
        new ObjectMetaBuilder()
            .withName(run.getMetadata().getName())
            .withNamespace(run.getMetadata().getNamespace())
            .build());
    clean.setSpec(run.getSpec());
    return ChildApplier.ownedBy(
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(Names.configMap(run))
            .withLabels(Labels.forRun(run, Labels.CONFIG))
            .endMetadata()
            .withData(Map.of(RUN_FILE, RunFile.toYaml(clean)))
            .build(),
        run);
  }

  public StatefulSet learner(TrainingRun run, int replicas) {
    TrainingRunSpec spec = run.getSpec();
    Map<String, String> labels = Labels.forRun(run, Labels.LEARNER);
    List<Toleration> tolerations = new ArrayList<>();
    // GPU nodes carry this taint (NVIDIA device plugin / GPU operator convention).
    tolerations.add(
        new TolerationBuilder()
            .withKey(GPU_RESOURCE)
            .withOperator("Exists")
            .withEffect("NoSchedule")
            .build());
    if (spec.learner.tolerations != null) {
      tolerations.addAll(spec.learner.tolerations);
    }
    List<Volume> volumes = new ArrayList<>(commonVolumes(run));
    List<VolumeMount> mounts = new ArrayList<>(commonMounts(run));
    volumes.add(
        spec.checkpoint.claimName != null
            ? new VolumeBuilder()
                .withName("checkpoints")
                .withNewPersistentVolumeClaim()
                .withClaimName(spec.checkpoint.claimName)
                .endPersistentVolumeClaim()
                .build()
            : new VolumeBuilder().withName("checkpoints").withNewEmptyDir().endEmptyDir().build());
    mounts.add(mount("checkpoints", CHECKPOINT_DIR, false));
    if (spec.model.weightsClaimName != null) {
      volumes.add(claimVolume("weights", spec.model.weightsClaimName));
      mounts.add(mount("weights", WEIGHTS_DIR, true));
    }
    Container container =
        new ContainerBuilder()
            .withName(Labels.LEARNER)
            .withImage(spec.learner.image != null ? spec.learner.image : settings.learnerImage())
            .withImagePullPolicy(settings.imagePullPolicy())
            .withArgs(
                "learner",
                "--run",
                CONFIG_DIR + "/" + RUN_FILE,
                "--port",
                Integer.toString(OperatorSettings.GRPC_PORT),
                "--metrics-port",
                Integer.toString(OperatorSettings.METRICS_PORT),
                "--work-dir",
                CHECKPOINT_DIR)
            .withEnv(podEnv(run))
            .addNewPort()
            .withName("grpc")
            .withContainerPort(OperatorSettings.GRPC_PORT)
            .endPort()
            .addNewPort()
            .withName("metrics")
            .withContainerPort(OperatorSettings.METRICS_PORT)
            .endPort()
            .withResources(withGpus(spec.learner.resources, spec.learner.gpusPerPod))
            .withVolumeMounts(mounts)
            .withNewReadinessProbe()
            .withNewTcpSocket()
            .withNewPort("grpc")
            .endTcpSocket()
            .withPeriodSeconds(5)
            .endReadinessProbe()
            .withNewSecurityContext()
            .withAllowPrivilegeEscalation(false)
            .endSecurityContext()
            .build();
    PodSpec pod =
        new PodSpecBuilder()
            .withRuntimeClassName(spec.learner.runtimeClassName)
            .withNodeSelector(spec.learner.nodeSelector)
            .withTolerations(tolerations)
            .withContainers(container)
            .withVolumes(volumes)
            .withEnableServiceLinks(false)
            .withNewSecurityContext()
            .withNewSeccompProfile()
            .withType("RuntimeDefault")
            .endSeccompProfile()
            .endSecurityContext()
            .build();
    return ChildApplier.ownedBy(
        new StatefulSetBuilder()
            .withNewMetadata()
            .withName(Names.learner(run))
            .withLabels(labels)
            .endMetadata()
            .withNewSpec()
            .withReplicas(replicas)
            .withServiceName(Names.learner(run))
            .withPodManagementPolicy("Parallel")
            .withNewSelector()
            .withMatchLabels(Labels.selectorForRun(run, Labels.LEARNER))
            .endSelector()
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(labels)
            .withAnnotations(Map.of(CONFIG_HASH, configHash(run)))
            .endMetadata()
            .withSpec(pod)
            .endTemplate()
            .endSpec()
            .build(),
        run);
  }

  /** Headless: it governs the StatefulSet's pod DNS names and resolves to the learner pods. */
  public Service learnerService(TrainingRun run) {
    return ChildApplier.ownedBy(
        new ServiceBuilder()
            .withNewMetadata()
            .withName(Names.learner(run))
            .withLabels(Labels.forRun(run, Labels.LEARNER))
            .endMetadata()
            .withNewSpec()
            .withClusterIP("None")
            .withSelector(Labels.selectorForRun(run, Labels.LEARNER))
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
        run);
  }

  public Deployment workers(TrainingRun run, int replicas) {
    TrainingRunSpec spec = run.getSpec();
    Map<String, String> labels = new HashMap<>(Labels.forRun(run, Labels.WORKER));
    // The pool's NetworkPolicy admits pods carrying the pool's label.
    labels.put(Labels.POOL, Names.pool(run));
    Container container =
        new ContainerBuilder()
            .withName(Labels.WORKER)
            .withImage(
                spec.rolloutWorkers.image != null
                    ? spec.rolloutWorkers.image
                    : settings.workerImage())
            .withImagePullPolicy(settings.imagePullPolicy())
            .withArgs(
                "worker",
                "--run",
                CONFIG_DIR + "/" + RUN_FILE,
                "--learner",
                Names.learner(run) + ":" + OperatorSettings.GRPC_PORT,
                "--sandbox",
                "dns:///" + Names.pool(run) + ":" + OperatorSettings.GRPC_PORT,
                "--concurrency",
                Integer.toString(spec.rolloutWorkers.concurrency),
                "--metrics-port",
                Integer.toString(OperatorSettings.METRICS_PORT))
            .withEnv(podEnv(run))
            .addNewPort()
            .withName("metrics")
            .withContainerPort(OperatorSettings.METRICS_PORT)
            .endPort()
            .withResources(spec.rolloutWorkers.resources)
            .withVolumeMounts(commonMounts(run))
            .withNewSecurityContext()
            .withAllowPrivilegeEscalation(false)
            .withRunAsNonRoot(true)
            .endSecurityContext()
            .build();
    return ChildApplier.ownedBy(
        new DeploymentBuilder()
            .withNewMetadata()
            .withName(Names.workers(run))
            .withLabels(labels)
            .endMetadata()
            .withNewSpec()
            .withReplicas(replicas)
            .withNewSelector()
            .withMatchLabels(Labels.selectorForRun(run, Labels.WORKER))
            .endSelector()
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(labels)
            .withAnnotations(Map.of(CONFIG_HASH, configHash(run)))
            .endMetadata()
            .withNewSpec()
            .withContainers(container)
            .withVolumes(commonVolumes(run))
            .withEnableServiceLinks(false)
            .withAutomountServiceAccountToken(false)
            .withNewSecurityContext()
            .withNewSeccompProfile()
            .withType("RuntimeDefault")
            .endSeccompProfile()
            .endSecurityContext()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build(),
        run);
  }

  /**
   * The run's own pool: the inline template. {@code replicas} set to 0 pauses it (suspend, end of
   * the run); null leaves sizing to the autoscaler.
   */
  public SandboxPool inlinePool(TrainingRun run, Integer replicas) {
    SandboxPool pool = new SandboxPool();
    pool.setMetadata(
        new ObjectMetaBuilder()
            .withName(Names.inlinePool(run))
            .withLabels(Labels.forRun(run, Labels.SANDBOX))
            .build());
    SandboxPoolSpec template = run.getSpec().sandbox.template;
    SandboxPoolSpec spec = ResourceYaml.copy(template, SandboxPoolSpec.class);
    spec.replicas = replicas != null ? replicas : template.replicas;
    pool.setSpec(spec);
    return ChildApplier.ownedBy(pool, run);
  }

  private List<Volume> commonVolumes(TrainingRun run) {
    List<Volume> volumes = new ArrayList<>();
    volumes.add(
        new VolumeBuilder()
            .withName("run-config")
            .withNewConfigMap()
            .withName(Names.configMap(run))
            .endConfigMap()
            .build());
    if (run.getSpec().dataset.claimName != null) {
      volumes.add(claimVolume("dataset", run.getSpec().dataset.claimName));
    }
    return volumes;
  }

  private List<VolumeMount> commonMounts(TrainingRun run) {
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(mount("run-config", CONFIG_DIR, true));
    if (run.getSpec().dataset.claimName != null) {
      mounts.add(mount("dataset", DATA_DIR, true));
    }
    return mounts;
  }

  private static Volume claimVolume(String name, String claim) {
    return new VolumeBuilder()
        .withName(name)
        .withNewPersistentVolumeClaim()
        .withClaimName(claim)
        .withReadOnly(true)
        .endPersistentVolumeClaim()
        .build();
  }

  private static VolumeMount mount(String name, String path, boolean readOnly) {
    return new VolumeMountBuilder()
        .withName(name)
        .withMountPath(path)
        .withReadOnly(readOnly)
        .build();
  }

  private static List<EnvVar> podEnv(TrainingRun run) {
    return List.of(
        new EnvVarBuilder()
            .withName("ROLLOUTFARM_RUN")
            .withValue(run.getMetadata().getName())
            .build(),
        new EnvVarBuilder()
            .withName("POD_NAME")
            .withNewValueFrom()
            .withNewFieldRef()
            .withFieldPath("metadata.name")
            .endFieldRef()
            .endValueFrom()
            .build(),
        new EnvVarBuilder()
            .withName("POD_NAMESPACE")
            .withNewValueFrom()
            .withNewFieldRef()
            .withFieldPath("metadata.namespace")
            .endFieldRef()
            .endValueFrom()
            .build());
  }

  private static ResourceRequirements withGpus(ResourceRequirements base, int gpus) {
    ResourceRequirementsBuilder b =
        base == null ? new ResourceRequirementsBuilder() : new ResourceRequirementsBuilder(base);
    if (gpus > 0) {
      Map<String, Quantity> limits =
          new HashMap<>(base == null || base.getLimits() == null ? Map.of() : base.getLimits());
      // Extended resources: the request defaults to the limit.
      limits.put(GPU_RESOURCE, new Quantity(Integer.toString(gpus)));
      b.withLimits(limits);
    }
    return b.build();
  }

  /** Hash of the run configuration, to restart pods when run.yaml changes. */
  private String configHash(TrainingRun run) {
    return Integer.toHexString(configMap(run).getData().get(RUN_FILE).hashCode());
  }
}

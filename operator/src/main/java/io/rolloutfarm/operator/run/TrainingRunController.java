package io.rolloutfarm.operator.run;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import io.rolloutfarm.api.v1alpha1.SandboxPool;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.operator.Labels;
import java.util.List;

/**
 * Thin JOSDK controller for TrainingRuns: children's changes (learner StatefulSet, worker
 * Deployment, the run's own SandboxPool) wake it through owner references; the learner's status is
 * polled by rescheduling. All decisions live in {@link RunReconciliation}.
 */
@ControllerConfiguration(name = "trainingrun")
public class TrainingRunController implements Reconciler<TrainingRun>, Cleaner<TrainingRun> {
  private final RunReconciliation reconciliation;

  public TrainingRunController(RunReconciliation reconciliation) {
    this.reconciliation = reconciliation;
  }

  @Override
  public UpdateControl<TrainingRun> reconcile(TrainingRun run, Context<TrainingRun> context) {
    return reconciliation
        .reconcile(run)
        .map(after -> UpdateControl.<TrainingRun>noUpdate().rescheduleAfter(after))
        .orElseGet(UpdateControl::noUpdate);
  }

  @Override
  public DeleteControl cleanup(TrainingRun run, Context<TrainingRun> context) {
    reconciliation.cleanup(run);
    return DeleteControl.defaultDelete();
  }

  @Override
  public List<EventSource<?, TrainingRun>> prepareEventSources(
      EventSourceContext<TrainingRun> context) {
    return List.of(
        owned(StatefulSet.class, context),
        owned(Deployment.class, context),
        owned(SandboxPool.class, context));
  }

  private static <R extends io.fabric8.kubernetes.api.model.HasMetadata>
      EventSource<R, TrainingRun> owned(Class<R> type, EventSourceContext<TrainingRun> context) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(type, TrainingRun.class)
            .withName("trainingrun-" + type.getSimpleName().toLowerCase())
            .withLabelSelector(Labels.MANAGED_SELECTOR)
            .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(TrainingRun.class))
            .build(),
        context);
  }
}

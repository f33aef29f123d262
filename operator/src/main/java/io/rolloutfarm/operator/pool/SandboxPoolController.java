package io.rolloutfarm.operator.pool;

import io.fabric8.kubernetes.api.model.apps.Deployment;
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
import io.rolloutfarm.operator.Labels;
import java.util.List;

/**
 * Thin JOSDK controller for SandboxPools: reconciles on spec changes and on its Deployment's
 * changes, and every scaling interval for the autoscaler. Decisions live in {@link
 * PoolReconciliation}.
 */
@ControllerConfiguration(name = "sandboxpool")
public class SandboxPoolController implements Reconciler<SandboxPool>, Cleaner<SandboxPool> {
  private final PoolReconciliation reconciliation;

  public SandboxPoolController(PoolReconciliation reconciliation) {
    this.reconciliation = reconciliation;
  }

  @Override
  public UpdateControl<SandboxPool> reconcile(SandboxPool pool, Context<SandboxPool> context) {
    return UpdateControl.<SandboxPool>noUpdate().rescheduleAfter(reconciliation.reconcile(pool));
  }

  @Override
  public DeleteControl cleanup(SandboxPool pool, Context<SandboxPool> context) {
    reconciliation.cleanup(pool);
    return DeleteControl.defaultDelete();
  }

  @Override
  public List<EventSource<?, SandboxPool>> prepareEventSources(
      EventSourceContext<SandboxPool> context) {
    return List.of(
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Deployment.class, SandboxPool.class)
                .withName("sandboxpool-deployment")
                .withLabelSelector(Labels.MANAGED_SELECTOR)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(SandboxPool.class))
                .build(),
            context));
  }
}

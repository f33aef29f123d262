package io.rolloutfarm.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.rolloutfarm.api.v1alpha1.RunFile;
import io.rolloutfarm.api.v1alpha1.SpecValidator;
import io.rolloutfarm.api.v1alpha1.TrainingRun;
import io.rolloutfarm.operator.OperatorSettings;
import io.rolloutfarm.operator.children.RunDependents;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The example the chart's NOTES and the README tell users to apply is a valid, GPU-using run. */
class ExampleRunTest {
  static final Path EXAMPLE = Path.of("..", "examples", "cluster-run.yaml").toAbsolutePath();

  @Test
  void theExampleTrainingRunPassesTheOperatorsValidation() throws Exception {
    TrainingRun run = RunFile.load(EXAMPLE).run();
    assertThat(SpecValidator.validate(run)).isEmpty();
    assertThat(run.getMetadata().getName()).isEqualTo("cluster-run");

    StatefulSet learner = new RunDependents(OperatorSettings.defaults()).learner(run, 1);
    assertThat(
            learner
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getResources()
                .getLimits())
        .containsEntry(RunDependents.GPU_RESOURCE, new Quantity("1"));
  }

  @Test
  void notesAndReadmeNameTheExample() throws Exception {
    String notes = Files.readString(HelmTool.CHART.resolve("templates/NOTES.txt"));
    String readme = Files.readString(Path.of("..", "README.md"));
    for (String text : new String[] {notes, readme}) {
      assertThat(text)
          .contains("kubectl apply -f examples/cluster-run.yaml")
          .contains("kubectl get tr -w")
          .contains("kubectl wait --for=condition=Complete tr/cluster-run");
    }
  }
}

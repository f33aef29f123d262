package io.rolloutfarm.learner.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.rolloutfarm.learner.engine.EngineSupervisor;
import io.rolloutfarm.learner.testing.FakeEngineService;
import io.rolloutfarm.learner.testing.InProcessEngineLauncher;
import io.rolloutfarm.proto.v1.SampleItem;
import io.rolloutfarm.proto.v1.SampleRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GenerateBatcherTest {

  private static SampleItem context(int length) {
    SampleItem.Builder b = SampleItem.newBuilder();
    for (int i = 0; i < length; i++) {
      b.addPromptTokenIds(65);
    }
    return b.build();
  }

  @Test
  void concurrentRequestsShareEngineCallsAndGetTheirOwnResults() throws Exception {
    FakeEngineService fake = new FakeEngineService();
    fake.sampleGate = new CountDownLatch(1);
    InProcessEngineLauncher launcher = new InProcessEngineLauncher(() -> fake);
    try (EngineSupervisor engine =
            new EngineSupervisor(launcher, EngineSupervisor.Options.defaults());
        GenerateBatcher batcher =
            new GenerateBatcher(engine, 16, Duration.ofMillis(1), (n, d) -> {})) {
      engine.start();
      CompletableFuture<GenerateBatcher.Result> first = batcher.submit(context(1));
      assertThat(fake.sampleEntered.await(10, TimeUnit.SECONDS)).isTrue();
      // While the engine is busy with the first batch, seven more requests queue up.
      List<CompletableFuture<GenerateBatcher.Result>> rest = new ArrayList<>();
      for (int i = 2; i <= 8; i++) {
        rest.add(batcher.submit(context(i)));
      }
      fake.sampleGate.countDown();

      assertThat(first.get(10, TimeUnit.SECONDS).result().getText()).isEqualTo("n=1");
      for (int i = 0; i < rest.size(); i++) {
        assertThat(rest.get(i).get(10, TimeUnit.SECONDS).result().getText())
            .isEqualTo("n=" + (i + 2));
      }
      assertThat(fake.sampleRequests)
          .extracting(SampleRequest::getItemsCount)
          .containsExactly(1, 7);
    }
  }

  @Test
  void batchesNeverExceedTheLimit() throws Exception {
    FakeEngineService fake = new FakeEngineService();
    fake.sampleGate = new CountDownLatch(1);
    InProcessEngineLauncher launcher = new InProcessEngineLauncher(() -> fake);
    try (EngineSupervisor engine =
            new EngineSupervisor(launcher, EngineSupervisor.Options.defaults());
        GenerateBatcher batcher =
            new GenerateBatcher(engine, 3, Duration.ofMillis(1), (n, d) -> {})) {
      engine.start();
      List<CompletableFuture<GenerateBatcher.Result>> all = new ArrayList<>();
      all.add(batcher.submit(context(1)));
      assertThat(fake.sampleEntered.await(10, TimeUnit.SECONDS)).isTrue();
      for (int i = 0; i < 7; i++) {
        all.add(batcher.submit(context(2)));
      }
      fake.sampleGate.countDown();
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      assertThat(fake.sampleRequests)
          .extracting(SampleRequest::getItemsCount)
          .containsExactly(1, 3, 3, 1);
    }
  }
}

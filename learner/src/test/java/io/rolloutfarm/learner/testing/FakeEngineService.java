package io.rolloutfarm.learner.testing;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rolloutfarm.proto.v1.EngineInfo;
import io.rolloutfarm.proto.v1.EngineInfoRequest;
import io.rolloutfarm.proto.v1.EngineServiceGrpc;
import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.proto.v1.LoadCheckpointRequest;
import io.rolloutfarm.proto.v1.LoadCheckpointResponse;
import io.rolloutfarm.proto.v1.SampleItem;
import io.rolloutfarm.proto.v1.SampleRequest;
import io.rolloutfarm.proto.v1.SampleResponse;
import io.rolloutfarm.proto.v1.SampleResult;
import io.rolloutfarm.proto.v1.SaveCheckpointRequest;
import io.rolloutfarm.proto.v1.SaveCheckpointResponse;
import io.rolloutfarm.proto.v1.SupervisedStepRequest;
import io.rolloutfarm.proto.v1.SupervisedStepResponse;
import io.rolloutfarm.proto.v1.TokenizeRequest;
import io.rolloutfarm.proto.v1.TokenizeResponse;
import io.rolloutfarm.proto.v1.TrainSequence;
import io.rolloutfarm.proto.v1.TrainStepRequest;
import io.rolloutfarm.proto.v1.TrainStepResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A deterministic stand-in for the PyTorch engine: byte tokenizer (ids 0..255, image token 259, eos
 * 258), sampling that echoes a fixed answer, and "training" that only counts versions and reports a
 * loss computed from the batch. It records every request so tests can compare runs.
 */
public final class FakeEngineService extends EngineServiceGrpc.EngineServiceImplBase {
  public static final int IMAGE_TOKEN = 259;
  public static final int EOS_TOKEN = 258;

  public final List<TrainStepRequest> trainRequests = new CopyOnWriteArrayList<>();
  public final List<SupervisedStepRequest> supervisedRequests = new CopyOnWriteArrayList<>();
  public final List<SampleRequest> sampleRequests = new CopyOnWriteArrayList<>();
  public final List<String> loadedCheckpoints = new CopyOnWriteArrayList<>();
  private volatile long version;

  /** When set, Sample calls wait for it (to let requests pile up). */
  public volatile CountDownLatch sampleGate;

  public CountDownLatch sampleEntered = new CountDownLatch(1);

  public long version() {
    return version;
  }

  @Override
  public void info(EngineInfoRequest request, StreamObserver<EngineInfo> out) {
    out.onNext(
        EngineInfo.newBuilder()
            .setModelName("fake")
            .setDevice("cpu")
            .setDtype("float32")
            .setParameterCount(1000)
            .setVocabSize(260)
            .setImageTokenId(IMAGE_TOKEN)
            .setEosTokenId(EOS_TOKEN)
            .setMaxContextTokens(512)
            .setTokensPerImage(4)
            .setPolicyVersion(version)
            .setTorchVersion("none")
            .build());
    out.onCompleted();
  }

  @Override
  public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> out) {
    TokenizeResponse.Builder r = TokenizeResponse.newBuilder();
    for (byte b : request.getText().getBytes(StandardCharsets.UTF_8)) {
      r.addTokenIds(b & 0xff);
    }
    out.onNext(r.build());
    out.onCompleted();
  }

  @Override
  public void sample(SampleRequest request, StreamObserver<SampleResponse> out) {
    sampleRequests.add(request);
    sampleEntered.countDown();
    CountDownLatch gate = sampleGate;
    if (gate != null) {
      try {
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    SampleResponse.Builder r = SampleResponse.newBuilder().setPolicyVersion(version);
    for (SampleItem item : request.getItemsList()) {
      // Echo the context length as the answer, so each request gets its own result.
      String text = "n=" + item.getPromptTokenIdsCount();
      SampleResult.Builder res = SampleResult.newBuilder().setText(text);
      for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
        res.addTokenIds(b).addLogprobs(-0.5f);
      }
      r.addResults(res.setFinishReason(FinishReason.FINISH_REASON_EOS));
      r.setGeneratedTokens(r.getGeneratedTokens() + text.length());
    }
    out.onNext(r.build());
    out.onCompleted();
  }

  @Override
  public void trainStep(TrainStepRequest request, StreamObserver<TrainStepResponse> out) {
    if (request.getSequencesCount() == 0 || request.getLearningRate() <= 0) {
      out.onError(
          Status.INVALID_ARGUMENT.withDescription("empty batch or lr").asRuntimeException());
      return;
    }
    trainRequests.add(request);
    double loss = 0;
    long tokens = 0;
    for (TrainSequence s : request.getSequencesList()) {
      int n = 0;
      for (int m : s.getLossMaskList()) {
        n += m;
      }
      loss -= s.getAdvantage() * n;
      tokens += n;
    }
    version++;
    out.onNext(
        TrainStepResponse.newBuilder()
            .setPolicyVersion(version)
            .setLoss(loss / Math.max(1, tokens))
            .setClipFraction(0.05)
            .setGradNorm(0.5)
            .setEntropy(1.5)
            .setTokens(tokens)
            .setSeconds(0.01)
            .setOptimizerSteps(1)
            .build());
    out.onCompleted();
  }

  @Override
  public void supervisedStep(
      SupervisedStepRequest request, StreamObserver<SupervisedStepResponse> out) {
    supervisedRequests.add(request);
    version++;
    out.onNext(
        SupervisedStepResponse.newBuilder()
            .setPolicyVersion(version)
            .setLoss(5.0 / version)
            .setTokens(request.getSequencesCount())
            .setSeconds(0.01)
            .build());
    out.onCompleted();
  }

  @Override
  public void saveCheckpoint(
      SaveCheckpointRequest request, StreamObserver<SaveCheckpointResponse> out) {
    try {
      Path dir = Path.of(request.getDirectory());
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("version.txt"), Long.toString(version));
      out.onNext(
          SaveCheckpointResponse.newBuilder()
              .addFiles("version.txt")
              .setPolicyVersion(version)
              .build());
      out.onCompleted();
    } catch (IOException e) {
      out.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
    }
  }

  @Override
  public void loadCheckpoint(
      LoadCheckpointRequest request, StreamObserver<LoadCheckpointResponse> out) {
    try {
      Path file = Path.of(request.getDirectory()).resolve("version.txt");
      version = Long.parseLong(Files.readString(file).strip());
      loadedCheckpoints.add(request.getDirectory());
      out.onNext(LoadCheckpointResponse.newBuilder().setPolicyVersion(version).build());
      out.onCompleted();
    } catch (IOException e) {
      out.onError(Status.NOT_FOUND.withDescription(e.toString()).asRuntimeException());
    }
  }
}

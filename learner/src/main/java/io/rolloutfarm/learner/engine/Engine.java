package io.rolloutfarm.learner.engine;

import io.rolloutfarm.proto.v1.EngineInfo;
import io.rolloutfarm.proto.v1.LoadCheckpointResponse;
import io.rolloutfarm.proto.v1.SampleRequest;
import io.rolloutfarm.proto.v1.SampleResponse;
import io.rolloutfarm.proto.v1.SaveCheckpointResponse;
import io.rolloutfarm.proto.v1.SupervisedStepRequest;
import io.rolloutfarm.proto.v1.SupervisedStepResponse;
import io.rolloutfarm.proto.v1.TokenizeResponse;
import io.rolloutfarm.proto.v1.TrainStepRequest;
import io.rolloutfarm.proto.v1.TrainStepResponse;
import java.nio.file.Path;

/**
 * The learner's view of the PyTorch engine. Calls throw {@link EngineUnavailableException} while
 * the engine restarts and {@link io.grpc.StatusRuntimeException} for errors the engine reports.
 */
public interface Engine {
  EngineInfo info();

  TokenizeResponse tokenize(String text);

  SampleResponse sample(SampleRequest request);

  TrainStepResponse trainStep(TrainStepRequest request);

  SupervisedStepResponse supervisedStep(SupervisedStepRequest request);

  SaveCheckpointResponse saveCheckpoint(Path directory);

  LoadCheckpointResponse loadCheckpoint(Path directory);
}

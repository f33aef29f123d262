package io.rolloutfarm.worker.testing;

import io.rolloutfarm.proto.v1.Media;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Verifier;

/** Tasks for tests. */
public final class Tasks {
  private Tasks() {}

  /** A one-image task whose answer is {@code answer}, checked with {@code kind}. */
  public static Task imageTask(String id, String answer, String kind) {
    return Task.newBuilder()
        .setTaskId(id)
        .setPromptId("p-" + id)
        .setQuestion("How many red pixels?")
        .setAnswer(answer)
        .addMedia(
            Media.newBuilder()
                .setName("image_clue_0")
                .setMimeType("image/png")
                .setData(FakeSandbox.TINY_PNG))
        .setVerifier(Verifier.newBuilder().setKind(kind).setTolerance(0.01))
        .setFamily("count")
        .build();
  }
}

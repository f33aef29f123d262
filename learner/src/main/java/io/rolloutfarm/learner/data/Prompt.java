package io.rolloutfarm.learner.data;

import io.rolloutfarm.proto.v1.Verifier;
import io.rolloutfarm.proto.v1.VideoInfo;
import java.nio.file.Path;
import java.util.List;

/**
 * One dataset record: a question about images and/or a video, its reference answer and how the
 * answer is verified. Media stay on disk until a task is leased.
 *
 * @param video the video file, or null
 * @param videoInfo metadata of the video (null without one)
 */
public record Prompt(
    String id,
    String question,
    String answer,
    List<Path> images,
    Path video,
    VideoInfo videoInfo,
    Verifier verifier,
    String family) {

  public Prompt {
    images = List.copyOf(images);
  }
}

package io.rolloutfarm.learner.train;

import io.rolloutfarm.proto.v1.Image;
import java.util.List;

/** One behaviour-cloning example: a whole context, the tokens to imitate and its images. */
public record Demonstration(
    String id, List<Integer> tokenIds, List<Integer> lossMask, List<Image> images) {
  public Demonstration {
    tokenIds = List.copyOf(tokenIds);
    lossMask = List.copyOf(lossMask);
    images = List.copyOf(images);
  }
}

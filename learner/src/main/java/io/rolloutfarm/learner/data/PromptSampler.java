package io.rolloutfarm.learner.data;

import java.util.SplittableRandom;

/**
 * Walks a dataset epoch after epoch, each epoch in its own seeded shuffle. The position is a {@link
 * Cursor} that checkpoints store, so a resumed run draws exactly the prompts an uninterrupted one
 * would have drawn.
 */
public final class PromptSampler {
  private final PromptDataset dataset;
  private final long seed;
  private Cursor cursor;
  private int[] order;

  /** Where the sampler stands: the next prompt is {@code order(epoch)[position]}. */
  public record Cursor(long epoch, int position) {}

  public PromptSampler(PromptDataset dataset, long seed) {
    this(dataset, seed, new Cursor(0, 0));
  }

  public PromptSampler(PromptDataset dataset, long seed, Cursor start) {
    this.dataset = dataset;
    this.seed = seed;
    this.cursor = start;
    this.order = permutation(start.epoch());
    if (start.position() < 0 || start.position() > order.length) {
      throw new IllegalArgumentException(
          "data cursor position " + start.position() + " outside the dataset of " + order.length);
    }
  }

  /** The next prompt; starts a new epoch (with a new shuffle) when the current one is used up. */
  public synchronized Prompt next() {
    if (cursor.position() >= order.length) {
      cursor = new Cursor(cursor.epoch() + 1, 0);
      order = permutation(cursor.epoch());
    }
    Prompt prompt = dataset.get(order[cursor.position()]);
    cursor = new Cursor(cursor.epoch(), cursor.position() + 1);
    return prompt;
  }

  public synchronized Cursor cursor() {
    return cursor;
  }

  /** Completed epochs plus the fraction of the current one. */
  public synchronized double epochProgress() {
    return cursor.epoch() + (double) cursor.position() / order.length;
  }

  private int[] permutation(long epoch) {
    int n = dataset.size();
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    // One independent stream per (seed, epoch): epochs do not depend on how far earlier ones got.
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

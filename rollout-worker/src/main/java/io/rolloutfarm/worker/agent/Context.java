package io.rolloutfarm.worker.agent;

import io.rolloutfarm.proto.v1.Image;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The growing context of one trajectory, kept twice: as token ids (with logprobs and loss mask,
 * what token-in/token-out policies see and what the learner trains on) and as chat messages of text
 * and images (what chat-completions endpoints see). Both only ever grow at the end, so earlier
 * turns are never re-tokenized.
 */
public final class Context {
  /** Who a message comes from. */
  public enum Role {
    SYSTEM,
    USER,
    ASSISTANT,
    /** Interpreter output, sent to chat endpoints as a user message. */
    OBSERVATION
  }

  /** A piece of a message: text or one image. */
  public sealed interface Piece permits Text, Picture {}

  /** Text piece. */
  public record Text(String text) implements Piece {}

  /** Image piece. */
  public record Picture(Image image) implements Piece {}

  /** A chat message made of pieces. */
  public record Message(Role role, List<Piece> pieces) {}

  private int[] tokens = new int[256];
  private float[] logprobs = new float[256];
  private byte[] mask = new byte[256];
  private int size;
  private final List<Image> images = new ArrayList<>();
  private final List<Message> messages = new ArrayList<>();
  private final int tokensPerImage;

  /**
   * @param tokensPerImage context tokens one image occupies in the model (0 or 1: one placeholder)
   */
  public Context(int tokensPerImage) {
    this.tokensPerImage = Math.max(1, tokensPerImage);
  }

  /** Appends prompt or observation tokens (masked out of the loss). */
  public void appendMasked(int[] ids) {
    ensure(ids.length);
    System.arraycopy(ids, 0, tokens, size, ids.length);
    size += ids.length;
  }

  /** Appends one image placeholder token and its image. */
  public void appendImage(int imageTokenId, Image image) {
    appendMasked(new int[] {imageTokenId});
    images.add(image);
  }

  /** Appends tokens the policy generated, with their sampling logprobs. */
  public void appendGenerated(int[] ids, float[] lps) {
    ensure(ids.length);
    System.arraycopy(ids, 0, tokens, size, ids.length);
    System.arraycopy(lps, 0, logprobs, size, ids.length);
    Arrays.fill(mask, size, size + ids.length, (byte) 1);
    size += ids.length;
  }

  /** Records a chat message (the token side is appended separately). */
  public void addMessage(Role role, List<Piece> pieces) {
    messages.add(new Message(role, List.copyOf(pieces)));
  }

  /** Number of token ids. */
  public int size() {
    return size;
  }

  /** Length as the model counts it: each image occupies {@code tokensPerImage} tokens. */
  public int modelLength() {
    return size + images.size() * (tokensPerImage - 1);
  }

  /** A copy of the token ids. */
  public int[] tokenIds() {
    return Arrays.copyOf(tokens, size);
  }

  /** A copy of the logprobs (0 where the mask is 0). */
  public float[] logprobs() {
    return Arrays.copyOf(logprobs, size);
  }

  /** A copy of the loss mask. */
  public byte[] lossMask() {
    return Arrays.copyOf(mask, size);
  }

  /** Images in placeholder order. */
  public List<Image> images() {
    return Collections.unmodifiableList(images);
  }

  /** Number of images in the context. */
  public int imageCount() {
    return images.size();
  }

  /** Messages so far. */
  public List<Message> messages() {
    return Collections.unmodifiableList(messages);
  }

  private void ensure(int more) {
    if (size + more > tokens.length) {
      int capacity = Math.max(tokens.length * 2, size + more);
      tokens = Arrays.copyOf(tokens, capacity);
      logprobs = Arrays.copyOf(logprobs, capacity);
      mask = Arrays.copyOf(mask, capacity);
    }
  }
}

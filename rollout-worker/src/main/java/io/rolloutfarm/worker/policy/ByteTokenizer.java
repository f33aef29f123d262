package io.rolloutfarm.worker.policy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A byte-level tokenizer for policies that have no tokenizer of their own (the scripted policy and
 * chat-completions endpoints): token {@code b} is the UTF-8 byte {@code b} (0–255), {@link
 * #IMAGE_TOKEN} stands for one image and {@link #EOS_TOKEN} ends a sequence. It is lossless, so
 * text always decodes back exactly.
 */
public final class ByteTokenizer {
  /** The image placeholder token. */
  public static final int IMAGE_TOKEN = 256;

  /** The end-of-sequence token. */
  public static final int EOS_TOKEN = 257;

  /** Number of token ids. */
  public static final int VOCAB_SIZE = 258;

  private ByteTokenizer() {}

  /** The UTF-8 bytes of the text as token ids. */
  public static int[] encode(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      ids[i] = bytes[i] & 0xff;
    }
    return ids;
  }

  /** Decodes byte tokens to text; special tokens are skipped. */
  public static String decode(int[] ids) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length);
    for (int id : ids) {
      if (id >= 0 && id < 256) {
        out.write(id);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}

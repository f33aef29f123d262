package io.rolloutfarm.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The session wire format (mirrored by {@code rolloutfarm_sandbox/protocol.py}): a 4-byte
 * big-endian length and a UTF-8 JSON header with a {@code blobs} count, then that many
 * length-prefixed binary frames.
 */
final class Frames {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_FRAME = 256 * 1024 * 1024;
  private static final int WRITE_CHUNK = 256 * 1024;

  /** One message: its header and binary attachments. */
  record Message(ObjectNode header, List<byte[]> blobs) {}

  private Frames() {}

  /**
   * Sends a header and its attachments. The attachments are written from the buffers given (a
   * request's media straight from its protobuf bytes), without first copying them into one.
   */
  static void send(SocketChannel channel, ObjectNode header, List<ByteBuffer> blobs)
      throws IOException {
    header.put("blobs", blobs.size());
    byte[] body = JSON.writeValueAsBytes(header);
    ByteBuffer[] parts = new ByteBuffer[1 + 2 * blobs.size()];
    parts[0] = ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).flip();
    for (int i = 0; i < blobs.size(); i++) {
      ByteBuffer blob = blobs.get(i).duplicate();
      parts[1 + 2 * i] = ByteBuffer.allocate(4).putInt(blob.remaining()).flip();
      parts[2 + 2 * i] = blob;
    }
    for (ByteBuffer part : parts) {
      while (part.hasRemaining()) {
        // The channel copies a heap buffer's remaining bytes into a native one on every write:
        // bounded slices keep that copy linear in the size of a large attachment.
        int n = Math.min(part.remaining(), WRITE_CHUNK);
        part.position(part.position() + channel.write(part.slice(part.position(), n)));
      }
    }
  }

  static Message receive(DataInputStream in) throws IOException {
    byte[] body = frame(in);
    var node = JSON.readTree(body);
    if (!(node instanceof ObjectNode header)) {
      throw new IOException("session sent a header that is not a JSON object");
    }
    int count = header.path("blobs").asInt(0);
    if (count < 0 || count > 1024) {
      throw new IOException("session announced " + count + " attachments");
    }
    List<byte[]> blobs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      blobs.add(frame(in));
    }
    return new Message(header, blobs);
  }

  private static byte[] frame(DataInputStream in) throws IOException {
    int length;
    try {
      length = in.readInt();
    } catch (EOFException e) {
      throw new SessionGoneException("session closed its connection");
    }
    if (length < 0 || length > MAX_FRAME) {
      throw new IOException("session sent a frame of " + length + " bytes");
    }
    // Grows with the bytes that actually arrive: a bogus length cannot make us allocate it.
    byte[] data = in.readNBytes(length);
    if (data.length != length) {
      throw new SessionGoneException("session closed its connection mid-message");
    }
    return data;
  }

  /** The session process is gone (its end of the socket closed). */
  static final class SessionGoneException extends IOException {
    SessionGoneException(String message) {
      super(message);
    }
  }
}

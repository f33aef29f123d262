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

  /** One message: its header and binary attachments. */
  record Message(ObjectNode header, List<byte[]> blobs) {}

  private Frames() {}

  static void send(SocketChannel channel, ObjectNode header, List<byte[]> blobs)
      throws IOException {
    header.put("blobs", blobs.size());
    byte[] body = JSON.writeValueAsBytes(header);
    int total = 4 + body.length;
    for (byte[] b : blobs) {
      total += 4 + b.length;
    }
    ByteBuffer buffer = ByteBuffer.allocate(total);
    buffer.putInt(body.length).put(body);
    for (byte[] b : blobs) {
      buffer.putInt(b.length).put(b);
    }
    buffer.flip();
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  static Message receive(DataInputStream in) throws IOException {
    byte[] body = frame(in);
    var node = JSON.readTree(body);
    if (!(node instanceof ObjectNode header)) {
      throw new IOException("session sent a header that is not a JSON object");
    }
    int count = header.path("blobs").asInt(0);
    if (count < 0 || count > 10_000) {
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
    byte[] data = new byte[length];
    try {
      in.readFully(data);
    } catch (EOFException e) {
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

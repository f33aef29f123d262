package io.rolloutfarm.learner.data;

import io.rolloutfarm.proto.v1.VideoInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a video's frame count, frame rate and size from the MP4/MOV container headers (the {@code
 * moov} box) without decoding anything, so that the learner can describe a video task to the model
 * while the frames stay in the sandbox. Only box headers and the small {@code moov} box are read,
 * so it is cheap even for long videos.
 */
public final class Mp4Probe {
  private Mp4Probe() {}

  /** Thrown when the file is not an MP4 with a video track the probe understands. */
  public static final class NotAnMp4Exception extends IOException {
    NotAnMp4Exception(String message) {
      super(message);
    }
  }

  /** Probes the first video track of {@code file}. */
  public static VideoInfo probe(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer moov = findTopLevel(ch, "moov");
      if (moov == null) {
        throw new NotAnMp4Exception(file + ": no 'moov' box (not an MP4/MOV file?)");
      }
      for (ByteBuffer trak : children(moov, "trak")) {
        VideoInfo info = videoTrack(trak);
        if (info != null) {
          return info;
        }
      }
      throw new NotAnMp4Exception(file + ": no video track in the MP4 file");
    }
  }

  private static ByteBuffer findTopLevel(FileChannel ch, String wanted) throws IOException {
    long pos = 0;
    long end = ch.size();
    ByteBuffer header = ByteBuffer.allocate(16);
    while (pos + 8 <= end) {
      header.clear().limit(8);
      readFully(ch, header, pos);
      long size = Integer.toUnsignedLong(header.getInt(0));
      String type = fourCc(header, 4);
      int headerLength = 8;
      if (size == 1) {
        header.clear().limit(8);
        readFully(ch, header, pos + 8);
        size = header.getLong(0);
        headerLength = 16;
      } else if (size == 0) {
        size = end - pos;
      }
      if (size < headerLength || pos + size > end) {
        return null;
      }
      if (type.equals(wanted)) {
        long bodyLength = size - headerLength;
        if (bodyLength > 256L * 1024 * 1024) {
          throw new NotAnMp4Exception(
              "'moov' box of " + bodyLength + " bytes is implausibly large");
        }
        ByteBuffer body = ByteBuffer.allocate((int) bodyLength);
        readFully(ch, body, pos + headerLength);
        return body.flip();
      }
      pos += size;
    }
    return null;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new NotAnMp4Exception("truncated MP4 file");
      }
      pos += n;
    }
  }

  /** Child boxes of {@code type} inside a container box body. */
  private static List<ByteBuffer> children(ByteBuffer body, String type) {
    List<ByteBuffer> out = new ArrayList<>();
    int pos = body.position();
    while (pos + 8 <= body.limit()) {
      long size = Integer.toUnsignedLong(body.getInt(pos));
      int headerLength = 8;
      if (size == 1 && pos + 16 <= body.limit()) {
        size = body.getLong(pos + 8);
        headerLength = 16;
      } else if (size == 0) {
        size = body.limit() - pos;
      }
      if (size < headerLength || pos + size > body.limit()) {
        break;
      }
      if (fourCc(body, pos + 4).equals(type)) {
        out.add(body.slice(pos + headerLength, (int) size - headerLength));
      }
      pos += (int) size;
    }
    return out;
  }

  private static ByteBuffer child(ByteBuffer body, String... path) {
    ByteBuffer current = body;
    for (String type : path) {
      List<ByteBuffer> found = children(current, type);
      if (found.isEmpty()) {
        return null;
      }
      current = found.get(0);
    }
    return current;
  }

  private static VideoInfo videoTrack(ByteBuffer trak) {
    ByteBuffer hdlr = child(trak, "mdia", "hdlr");
    if (hdlr == null || hdlr.limit() < 12 || !fourCc(hdlr, 8).equals("vide")) {
      return null;
    }
    ByteBuffer tkhd = child(trak, "tkhd");
    ByteBuffer mdhd = child(trak, "mdia", "mdhd");
    ByteBuffer stsz = child(trak, "mdia", "minf", "stbl", "stsz");
    if (tkhd == null || mdhd == null || stsz == null || stsz.limit() < 12) {
      return null;
    }
    // tkhd: width and height are 16.16 fixed point in the last 8 bytes.
    int width = tkhd.getInt(tkhd.limit() - 8) >>> 16;
    int height = tkhd.getInt(tkhd.limit() - 4) >>> 16;
    long timescale;
    long duration;
    if (mdhd.get(0) == 1) {
      timescale = Integer.toUnsignedLong(mdhd.getInt(20));
      duration = mdhd.getLong(24);
    } else {
      timescale = Integer.toUnsignedLong(mdhd.getInt(12));
      duration = Integer.toUnsignedLong(mdhd.getInt(16));
    }
    long frames = Integer.toUnsignedLong(stsz.getInt(8));
    double seconds = timescale == 0 ? 0 : (double) duration / timescale;
    double fps = seconds > 0 ? frames / seconds : 0;
    return VideoInfo.newBuilder()
        .setFrameCount((int) frames)
        .setFps(Math.round(fps * 1000) / 1000.0)
        .setWidth(width)
        .setHeight(height)
        .build();
  }

  private static String fourCc(ByteBuffer buf, int at) {
    byte[] b = new byte[4];
    buf.get(at, b);
    return new String(b, StandardCharsets.ISO_8859_1);
  }
}

package io.rolloutfarm.sandbox;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A range of uids that this server alone gives to its sessions. Ending a session kills every
 * process of its uid, so two servers on one machine (tests, a local farm with several sandbox
 * servers) must never share one: each claims blocks of {@link #BLOCK} uids with an exclusive lock
 * on a file per block, which the kernel releases when the server's process ends.
 */
final class UidBlock implements AutoCloseable {
  static final int BLOCK = 1024;
  private static final int MAX_BLOCKS = 4096;

  private final int first;
  private final List<FileChannel> channels;

  private UidBlock(int first, List<FileChannel> channels) {
    this.first = first;
    this.channels = channels;
  }

  /** Claims {@code count} consecutive uids at or above {@code lowest}. */
  static UidBlock claim(int lowest, int count, Path lockDir) throws IOException {
    Files.createDirectories(lockDir);
    int blocks = (count + BLOCK - 1) / BLOCK;
    for (int k = 0; k + blocks <= MAX_BLOCKS; k++) {
      List<FileChannel> held = new ArrayList<>();
      boolean all = true;
      for (int b = k; b < k + blocks && all; b++) {
        int base = lowest + b * BLOCK;
        FileChannel ch =
            FileChannel.open(
                lockDir.resolve("uids-" + base + ".lock"),
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
          lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          lock = null; // held by another server in this JVM
        }
        if (lock == null) {
          ch.close();
          all = false;
        } else {
          held.add(ch);
        }
      }
      if (all) {
        return new UidBlock(lowest + k * BLOCK, held);
      }
      for (FileChannel ch : held) {
        ch.close();
      }
    }
    throw new IOException("no free block of " + count + " session uids above " + lowest);
  }

  int first() {
    return first;
  }

  @Override
  public void close() {
    for (FileChannel ch : channels) {
      try {
        ch.close();
      } catch (IOException e) {
        // released with the process anyway
      }
    }
  }
}

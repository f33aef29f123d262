package io.rolloutfarm.learner.checkpoint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoints on disk: {@code <root>/step-00000010/} holds {@code engine/} (what the engine's
 * SaveCheckpoint wrote) and {@code learner-state.json}. A checkpoint is written into a temporary
 * folder and renamed into place, so a crash mid-write never leaves a half checkpoint that looks
 * complete; the newest {@code keep} are kept.
 */
public final class CheckpointStore {
  private static final Logger LOG = Logger.getLogger(CheckpointStore.class.getName());
  private static final Pattern NAME = Pattern.compile("step-(\\d+)");
  public static final String STATE_FILE = "learner-state.json";
  public static final String ENGINE_DIR = "engine";
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Path root;
  private final int keep;

  /** A complete checkpoint. */
  public record Checkpoint(Path directory, long step, LearnerState state) {
    public Path engineDirectory() {
      return directory.resolve(ENGINE_DIR);
    }
  }

  /** Writes the engine's half into the folder it is given. */
  @FunctionalInterface
  public interface EngineWriter {
    void write(Path engineDirectory) throws IOException;
  }

  public CheckpointStore(Path root, int keep) {
    if (keep < 1) {
      throw new IllegalArgumentException("checkpoint.keep must be at least 1, got " + keep);
    }
    this.root = root;
    this.keep = keep;
  }

  public Path root() {
    return root;
  }

  /** Writes a checkpoint for {@code state.step()} atomically and prunes old ones. */
  public Checkpoint save(LearnerState state, EngineWriter engine) throws IOException {
    Files.createDirectories(root);
    String name = String.format("step-%08d", state.step());
    Path tmp = Files.createTempDirectory(root, "." + name + ".tmp-");
    try {
      engine.write(tmp.resolve(ENGINE_DIR));
      Path stateFile = tmp.resolve(STATE_FILE);
      Files.write(stateFile, JSON.writeValueAsBytes(state));
      fsync(stateFile);
      Path target = root.resolve(name);
      if (Files.exists(target)) {
        // Same step written again (e.g. after a resume): swap the old one out first.
        Path old = root.resolve("." + name + ".old-" + System.nanoTime());
        move(target, old);
        move(tmp, target);
        deleteTree(old);
      } else {
        move(tmp, target);
      }
      fsync(root);
      prune();
      return new Checkpoint(target, state.step(), state);
    } catch (IOException | RuntimeException e) {
      deleteTree(tmp);
      throw e;
    }
  }

  /** The newest complete checkpoint, if any. */
  public Optional<Checkpoint> latest() throws IOException {
    for (Path dir : complete().reversed()) {
      try {
        LearnerState state = JSON.readValue(dir.resolve(STATE_FILE).toFile(), LearnerState.class);
        if (state.format() != LearnerState.FORMAT) {
          throw new IOException(
              dir
                  + ": learner state format "
                  + state.format()
                  + ", expected "
                  + LearnerState.FORMAT);
        }
        return Optional.of(new Checkpoint(dir, state.step(), state));
      } catch (IOException e) {
        LOG.warning("skipping unreadable checkpoint " + dir + ": " + e.getMessage());
      }
    }
    return Optional.empty();
  }

  /** Complete checkpoint folders, oldest first. */
  public List<Path> complete() throws IOException {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    List<Path> dirs = new ArrayList<>();
    try (Stream<Path> list = Files.list(root)) {
      list.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
          .filter(p -> Files.isRegularFile(p.resolve(STATE_FILE)))
          .forEach(dirs::add);
    }
    dirs.sort(Comparator.comparingLong(CheckpointStore::stepOf));
    return dirs;
  }

  private static long stepOf(Path dir) {
    Matcher m = NAME.matcher(dir.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  private void prune() throws IOException {
    List<Path> dirs = complete();
    for (int i = 0; i < dirs.size() - keep; i++) {
      deleteTree(dirs.get(i));
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static void fsync(Path path) {
    try (FileChannel ch =
        FileChannel.open(
            path, Files.isDirectory(path) ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
      ch.force(true);
    } catch (IOException e) {
      // Some filesystems refuse to sync folders; the rename is still atomic.
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
              Files.delete(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}

package io.rolloutfarm.api.v1alpha1;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A {@link TrainingRun} read from a YAML file, with paths in it resolved against the file's folder.
 * Local runs, {@code farm validate} and the components in pods (which read the run from the
 * operator's ConfigMap) all load runs through here, so they agree on the format.
 */
public record RunFile(Path file, TrainingRun run) {

  /** A run file that cannot be read or parsed; the message names the file and the field. */
  public static final class InvalidRunFileException extends IOException {
    public InvalidRunFileException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Reads and parses a TrainingRun YAML file. */
  public static RunFile load(Path file) throws InvalidRunFileException {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new InvalidRunFileException(file + ": no such file", e);
    } catch (IOException e) {
      throw new InvalidRunFileException(file + ": cannot read: " + e.getMessage(), e);
    }
    return new RunFile(file.toAbsolutePath().normalize(), parse(file.toString(), text));
  }

  /** Parses TrainingRun YAML; {@code origin} names the source in error messages. */
  public static TrainingRun parse(String origin, String yaml) throws InvalidRunFileException {
    return ResourceYaml.parse(origin, yaml, TrainingRun.class);
  }

  /** Serialises a run back to YAML (what the operator puts in the run ConfigMap). */
  public static String toYaml(TrainingRun run) {
    return ResourceYaml.toYaml(run);
  }

  /** Resolves a path from the run file against the file's folder (absolute paths stay). */
  public Path resolve(String path) {
    Path p = Path.of(path);
    return p.isAbsolute() ? p : file.getParent().resolve(p).normalize();
  }

  /** The run's name, or the file name without extension when metadata.name is unset. */
  public String name() {
    if (run.getMetadata() != null && run.getMetadata().getName() != null) {
      return run.getMetadata().getName();
    }
    String fileName = file.getFileName().toString();
    int dot = fileName.lastIndexOf('.');
    return dot > 0 ? fileName.substring(0, dot) : fileName;
  }
}

package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * A {@link TrainingRun} read from a YAML file, with paths in it resolved against the file's folder.
 * Local runs, {@code farm validate} and the components in pods (which read the run from the
 * operator's ConfigMap) all load runs through here, so they agree on the format.
 */
public record RunFile(Path file, TrainingRun run) {

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS);

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
    TrainingRun run;
    try {
      JsonNode tree = YAML.readTree(yaml);
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        throw new InvalidRunFileException(origin + ": empty file", null);
      }
      // The resource class fixes kind and apiVersion itself, so check what the file says.
      String kind = tree.path("kind").asText("");
      if (!"TrainingRun".equals(kind)) {
        throw new InvalidRunFileException(
            origin + ": kind: expected TrainingRun, found " + (kind.isEmpty() ? "nothing" : kind),
            null);
      }
      String apiVersion = tree.path("apiVersion").asText("");
      String expected = TrainingRun.GROUP + "/" + TrainingRun.VERSION;
      if (!expected.equals(apiVersion)) {
        throw new InvalidRunFileException(
            origin + ": apiVersion: expected " + expected + ", found " + apiVersion, null);
      }
      run = YAML.treeToValue(tree, TrainingRun.class);
    } catch (InvalidRunFileException e) {
      throw e;
    } catch (UnrecognizedPropertyException e) {
      throw new InvalidRunFileException(
          origin
              + ": "
              + fieldPath(e)
              + ": unknown field (known: "
              + e.getKnownPropertyIds().stream().map(Object::toString).sorted().toList()
              + ")",
          e);
    } catch (JsonMappingException e) {
      throw new InvalidRunFileException(
          origin + ": " + fieldPath(e) + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new InvalidRunFileException(origin + ": not valid YAML: " + e.getMessage(), e);
    }
    if (run.getSpec() == null) {
      throw new InvalidRunFileException(origin + ": spec: missing", null);
    }
    return run;
  }

  /** Serialises a run back to YAML (what the operator puts in the run ConfigMap). */
  public static String toYaml(TrainingRun run) {
    try {
      return YAML.writeValueAsString(run);
    } catch (IOException e) {
      throw new IllegalStateException("a TrainingRun always serialises", e);
    }
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

  private static String fieldPath(JsonMappingException e) {
    String path =
        e.getPath().stream()
            .map(
                ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
            .collect(Collectors.joining("."))
            .replace(".[", "[");
    return path.isEmpty() ? "(document)" : path;
  }
}

package io.rolloutfarm.api.v1alpha1;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import java.io.IOException;
import java.util.stream.Collectors;

/**
 * Strict YAML reading of this project's resources: unknown fields, nulls for numbers and numbers
 * for enums are errors, and every error names the source and the field.
 */
public final class ResourceYaml {

  static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS);

  private ResourceYaml() {}

  /** The {@code kind} a YAML document declares. */
  public static String kindOf(String origin, String yaml) throws RunFile.InvalidRunFileException {
    return tree(origin, yaml).path("kind").asText("");
  }

  /** Parses one resource of {@code type}, checking kind and apiVersion first. */
  public static <T extends CustomResource<?, ?>> T parse(String origin, String yaml, Class<T> type)
      throws RunFile.InvalidRunFileException {
    JsonNode tree = tree(origin, yaml);
    String expectedKind = HasMetadata.getKind(type);
    String kind = tree.path("kind").asText("");
    if (!expectedKind.equals(kind)) {
      throw new RunFile.InvalidRunFileException(
          origin
              + ": kind: expected "
              + expectedKind
              + ", found "
              + (kind.isEmpty() ? "nothing" : kind),
          null);
    }
    String apiVersion = tree.path("apiVersion").asText("");
    String expected = HasMetadata.getApiVersion(type);
    if (!expected.equals(apiVersion)) {
      throw new RunFile.InvalidRunFileException(
          origin + ": apiVersion: expected " + expected + ", found " + apiVersion, null);
    }
    T resource;
    try {
      resource = YAML.treeToValue(tree, type);
    } catch (UnrecognizedPropertyException e) {
      throw new RunFile.InvalidRunFileException(
          origin
              + ": "
              + fieldPath(e)
              + ": unknown field (known: "
              + e.getKnownPropertyIds().stream().map(Object::toString).sorted().toList()
              + ")",
          e);
    } catch (JsonMappingException e) {
      throw new RunFile.InvalidRunFileException(
          origin + ": " + fieldPath(e) + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new RunFile.InvalidRunFileException(origin + ": not valid YAML: " + e.getMessage(), e);
    }
    if (resource.getSpec() == null) {
      throw new RunFile.InvalidRunFileException(origin + ": spec: missing", null);
    }
    return resource;
  }

  /** Serialises a resource to YAML. */
  public static String toYaml(Object resource) {
    try {
      return YAML.writeValueAsString(resource);
    } catch (IOException e) {
      throw new IllegalStateException("a resource always serialises", e);
    }
  }

  /** A deep copy of a model object (the same Jackson mapping as the files). */
  public static <T> T copy(T value, Class<T> type) {
    return YAML.convertValue(value, type);
  }

  private static JsonNode tree(String origin, String yaml) throws RunFile.InvalidRunFileException {
    try {
      JsonNode tree = YAML.readTree(yaml);
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        throw new RunFile.InvalidRunFileException(origin + ": empty file", null);
      }
      if (!tree.isObject()) {
        throw new RunFile.InvalidRunFileException(
            origin + ": expected a YAML mapping with apiVersion, kind, metadata and spec", null);
      }
      return tree;
    } catch (RunFile.InvalidRunFileException e) {
      throw e;
    } catch (IOException e) {
      throw new RunFile.InvalidRunFileException(origin + ": not valid YAML: " + e.getMessage(), e);
    }
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

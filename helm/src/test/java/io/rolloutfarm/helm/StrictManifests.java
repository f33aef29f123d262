package io.rolloutfarm.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Parses rendered manifests into typed Fabric8 model objects and rejects anything the model does
 * not know: an unknown kind, or an unknown field anywhere (Fabric8 would otherwise keep it quietly
 * in {@code additionalProperties}).
 */
final class StrictManifests {
  private StrictManifests() {}

  static List<HasMetadata> parse(String multiDocYaml) {
    List<HasMetadata> out = new ArrayList<>();
    for (String doc : multiDocYaml.split("(?m)^---\\s*$")) {
      String trimmed = doc.replaceAll("(?m)^#.*$", "").trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      Object parsed = Serialization.unmarshal(doc);
      assertThat(parsed).as("document parses into a Kubernetes object:\n" + doc).isNotNull();
      assertThat(parsed)
          .as("kind known to the Fabric8 model:\n" + doc)
          .isInstanceOf(HasMetadata.class)
          .isNotInstanceOf(GenericKubernetesResource.class);
      HasMetadata resource = (HasMetadata) parsed;
      assertNoUnknownFields(resource, resource.getKind() + "/" + resource.getMetadata().getName());
      out.add(resource);
    }
    return out;
  }

  static void assertNoUnknownFields(Object node, String path) {
    if (node == null) {
      return;
    }
    if (node instanceof Map<?, ?> map) {
      map.forEach((k, v) -> assertNoUnknownFields(v, path + "." + k));
      return;
    }
    if (node instanceof Collection<?> list) {
      int i = 0;
      for (Object item : list) {
        assertNoUnknownFields(item, path + "[" + i++ + "]");
      }
      return;
    }
    if (!node.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method m : node.getClass().getMethods()) {
      if (m.getParameterCount() != 0
          || !m.getName().startsWith("get")
          || Modifier.isStatic(m.getModifiers())
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      Object value;
      try {
        value = m.invoke(node);
      } catch (ReflectiveOperationException e) {
        continue;
      }
      // Fabric8 keeps unknown fields in a Map named additionalProperties; JSON schemas (CRDs)
      // also have a schema field of that name, which is ordinary content.
      if (m.getName().equals("getAdditionalProperties") && value instanceof Map<?, ?>) {
        assertThat((Map<?, ?>) value)
            .as("unknown fields at " + path + " (misspelled or misplaced?)")
            .isNullOrEmpty();
      } else if (!(value instanceof String) && !(value instanceof Enum<?>)) {
        assertNoUnknownFields(value, path + "." + fieldName(m.getName()));
      }
    }
  }

  private static String fieldName(String getter) {
    String s = getter.substring(3);
    return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }
}

package io.rolloutfarm.helm;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** What the operator's main sources refer to, read from the sources themselves. */
final class OperatorSources {
  static final Path MAIN = Path.of("..", "operator", "src", "main", "java").toAbsolutePath();

  /** Fabric8 model classes and the farm's own resources, by fully qualified name. */
  private static final Pattern MODEL_CLASS =
      Pattern.compile(
          "\\b(io\\.fabric8\\.kubernetes\\.api\\.model(?:\\.[a-z0-9]+)*|io\\.rolloutfarm\\.api"
              + "(?:\\.[a-z0-9]+)*)\\.([A-Z][A-Za-z0-9]*)");

  private OperatorSources() {}

  /**
   * {@code group/plural} of every Kubernetes resource kind named in the operator's code (builders
   * count as their kind), e.g. {@code apps/statefulsets}, {@code /pods}.
   */
  static Set<String> resourceKindsUsed() {
    Set<String> kinds = new TreeSet<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = MODEL_CLASS.matcher(Files.readString(f));
        while (m.find()) {
          String simple = m.group(2).replaceAll("(Fluent|Builder)$", "");
          Class<?> type = load(m.group(1) + "." + simple);
          if (type != null
              && HasMetadata.class.isAssignableFrom(type)
              && !type.isInterface()
              && !Modifier.isAbstract(type.getModifiers())) {
            @SuppressWarnings("unchecked")
            Class<? extends HasMetadata> kind = (Class<? extends HasMetadata>) type;
            kinds.add(HasMetadata.getGroup(kind) + "/" + HasMetadata.getPlural(kind));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + MAIN, e);
    }
    return kinds;
  }

  private static Class<?> load(String name) {
    try {
      return Class.forName(name, false, OperatorSources.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      return null;
    }
  }
}

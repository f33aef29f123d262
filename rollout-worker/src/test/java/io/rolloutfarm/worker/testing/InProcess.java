package io.rolloutfarm.worker.testing;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** An in-process gRPC server and a channel to it; closing shuts both down. */
public final class InProcess implements AutoCloseable {
  public final Server server;
  public final ManagedChannel channel;
  public final String name;

  public InProcess(BindableService... services) {
    name = InProcessServerBuilder.generateName();
    InProcessServerBuilder builder =
        InProcessServerBuilder.forName(name).executor(Executors.newVirtualThreadPerTaskExecutor());
    for (BindableService s : services) {
      builder.addService(s);
    }
    try {
      server = builder.build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    channel = InProcessChannelBuilder.forName(name).build();
  }

  /** Kills the server as a crash would: open calls fail, new calls find nobody. */
  public void kill() {
    server.shutdownNow();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.awaitTermination(5, TimeUnit.SECONDS);
  }
}

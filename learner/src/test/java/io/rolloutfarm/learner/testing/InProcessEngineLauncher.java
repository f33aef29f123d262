package io.rolloutfarm.learner.testing;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.rolloutfarm.learner.engine.EngineLauncher;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Launches {@link FakeEngineService}s on in-process gRPC servers. {@link #crash()} shuts the
 * current one down hard, as a dying engine process would; {@link #failNextLaunches} makes launches
 * fail.
 */
public final class InProcessEngineLauncher implements EngineLauncher {
  private final Supplier<FakeEngineService> factory;
  public final List<FakeEngineService> engines = new CopyOnWriteArrayList<>();
  private final List<Running> running = new CopyOnWriteArrayList<>();
  public final AtomicInteger failNextLaunches = new AtomicInteger();
  private static final AtomicInteger NAMES = new AtomicInteger();

  public InProcessEngineLauncher(Supplier<FakeEngineService> factory) {
    this.factory = factory;
  }

  public InProcessEngineLauncher() {
    this(FakeEngineService::new);
  }

  @Override
  public LaunchedEngine launch(int incarnation) throws IOException {
    if (failNextLaunches.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new IOException("simulated launch failure");
    }
    FakeEngineService service = factory.get();
    String name = "fake-engine-" + NAMES.incrementAndGet();
    Server server =
        InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    engines.add(service);
    Running r = new Running(server, channel, name);
    running.add(r);
    return r;
  }

  /** The engine started last. */
  public FakeEngineService current() {
    return engines.get(engines.size() - 1);
  }

  /** Kills the current engine. */
  public void crash() {
    running.get(running.size() - 1).server.shutdownNow();
  }

  private record Running(Server server, ManagedChannel channel, String name)
      implements LaunchedEngine {
    @Override
    public boolean isAlive() {
      return !server.isShutdown();
    }

    @Override
    public void destroy() {
      channel.shutdownNow();
      server.shutdownNow();
    }

    @Override
    public String describe() {
      return name;
    }
  }
}

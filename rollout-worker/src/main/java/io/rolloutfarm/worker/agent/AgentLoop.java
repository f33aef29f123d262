package io.rolloutfarm.worker.agent;

import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.FinishReason;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Observation;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Timings;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.Turn;
import io.rolloutfarm.worker.WorkerMetrics;
import io.rolloutfarm.worker.agent.Context.Picture;
import io.rolloutfarm.worker.agent.Context.Piece;
import io.rolloutfarm.worker.agent.Context.Role;
import io.rolloutfarm.worker.agent.Context.Text;
import io.rolloutfarm.worker.agent.InfraFailure.PolicyFailure;
import io.rolloutfarm.worker.agent.InfraFailure.SandboxFailure;
import io.rolloutfarm.worker.agent.ResponseParser.Answer;
import io.rolloutfarm.worker.agent.ResponseParser.ParsedTurn;
import io.rolloutfarm.worker.policy.Generation;
import io.rolloutfarm.worker.policy.Policy;
import io.rolloutfarm.worker.policy.PolicyFacts;
import io.rolloutfarm.worker.policy.Sampling;
import io.rolloutfarm.worker.reward.RewardCalculator;
import io.rolloutfarm.worker.sandbox.SandboxSession;
import io.rolloutfarm.worker.sandbox.Sandboxes;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns one task into one scored trajectory: policy → extract code → sandbox → observation → … →
 * answer → reward. Thread-safe; each call runs on its caller's (virtual) thread.
 *
 * <p>Infrastructure failures (the sandbox or the policy broke) restart the trajectory from scratch
 * on another sandbox, up to {@link AgentSettings#maxInfraRetries()} times; after that the
 * trajectory is returned with end reason {@code SANDBOX_FAILURE} or {@code POLICY_FAILURE} and no
 * reward. A cancelled trajectory (worker shutdown, lost lease) throws {@link
 * CancellationException}.
 */
public final class AgentLoop {
  private static final Logger LOG = Logger.getLogger(AgentLoop.class.getName());

  private final Policy policy;
  private final Sandboxes sandboxes;
  private final AgentSettings settings;
  private final WorkerMetrics metrics;
  private final RewardCalculator rewards;

  public AgentLoop(
      Policy policy, Sandboxes sandboxes, AgentSettings settings, WorkerMetrics metrics) {
    this.policy = policy;
    this.sandboxes = sandboxes;
    this.settings = settings;
    this.metrics = metrics;
    this.rewards = new RewardCalculator(settings.reward());
  }

  public AgentSettings settings() {
    return settings;
  }

  /** Runs a task to a trajectory, retrying infrastructure failures. */
  public Trajectory run(Task task) {
    SandboxWait wait = new SandboxWait();
    try {
      return run(task, wait);
    } finally {
      wait.done();
    }
  }

  private Trajectory run(Task task, SandboxWait wait) {
    Set<String> failedSandboxes = new HashSet<>();
    int attempt = task.getAttempt();
    for (int retry = 0; ; retry++) {
      if (Thread.currentThread().isInterrupted()) {
        throw new CancellationException("trajectory cancelled");
      }
      Attempt current = new Attempt(task, attempt + retry);
      try {
        return current.run(failedSandboxes, wait);
      } catch (InfraFailure failure) {
        if (failure instanceof SandboxFailure sf) {
          failedSandboxes.add(sf.endpoint());
        }
        if (!failure.retryable() || retry >= settings.maxInfraRetries()) {
          LOG.log(
              Level.WARNING,
              "task {0}: giving up after {1} attempt(s): {2}",
              new Object[] {task.getTaskId(), retry + 1, failure.getMessage()});
          return current.infraFailure(failure);
        }
        metrics.retried(failure instanceof SandboxFailure);
        LOG.log(
            Level.INFO,
            "task {0}: retrying after infrastructure failure: {1}",
            new Object[] {task.getTaskId(), failure.getMessage()});
        try {
          Thread.sleep(Math.min(2000, 100L << retry));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CancellationException("trajectory cancelled");
        }
      }
    }
  }

  /** Counts one trajectory in the worker's pending sandbox requests while it has no session. */
  private final class SandboxWait {
    private boolean waiting;

    void begin() {
      if (!waiting) {
        waiting = true;
        metrics.sandboxWaitStarted();
      }
    }

    void done() {
      if (waiting) {
        waiting = false;
        metrics.sandboxWaitEnded();
      }
    }
  }

  /** One attempt at a task: its own sandbox session and context. */
  private final class Attempt {
    private final Task task;
    private final int attempt;
    private final long startedMs = System.currentTimeMillis();
    private final Trajectory.Builder out = Trajectory.newBuilder();
    private final PolicyFacts facts = policy.facts();
    private final Context context = new Context(facts.tokensPerImage());
    private final StringBuilder generatedText = new StringBuilder();
    private double policyMs;
    private double sandboxMs;
    private int toolCalls;
    private boolean versionSet;

    Attempt(Task task, int attempt) {
      this.task = task;
      this.attempt = attempt;
      out.setTrajectoryId(task.getTaskId() + "-a" + attempt + "-" + UUID.randomUUID())
          .setTaskId(task.getTaskId())
          .setPromptId(task.getPromptId())
          .setGroupIndex(task.getGroupIndex())
          .setAttempt(attempt)
          .setFamily(task.getFamily());
    }

    Trajectory run(Set<String> avoid, SandboxWait wait) throws InfraFailure {
      long t0 = System.nanoTime();
      // A failed open keeps the trajectory waiting through the backoff until the next attempt.
      wait.begin();
      SandboxSession session = sandboxes.open(task.getMediaList(), out.getTrajectoryId(), avoid);
      wait.done();
      Duration openTime = Duration.ofNanos(System.nanoTime() - t0);
      metrics.sandboxOpen(openTime);
      sandboxMs += openTime.toNanos() / 1e6;
      try {
        return loop(session);
      } finally {
        long c0 = System.nanoTime();
        session.close();
        Duration closeTime = Duration.ofNanos(System.nanoTime() - c0);
        metrics.sandboxClose(closeTime);
        sandboxMs += closeTime.toNanos() / 1e6;
      }
    }

    private Trajectory loop(SandboxSession session) throws InfraFailure {
      List<Image> taskImages = ContextImages.of(task);
      PromptTemplate template =
          ContextImages.hasVideo(task) ? settings.videoTemplate() : settings.imageTemplate();
      List<Piece> system = template.system(task, taskImages);
      List<Piece> user = template.user(task, taskImages);
      if (!system.isEmpty()) {
        context.addMessage(Role.SYSTEM, system);
      }
      context.addMessage(Role.USER, user);
      write(settings.chatFormat().prompt(system, user));
      out.setPromptTokens(context.size());
      int limit = settings.maxTotalTokens();
      if (facts.maxContextTokens() > 0) {
        limit = Math.min(limit, facts.maxContextTokens());
      }
      for (int turnNo = 1; ; turnNo++) {
        int room = limit - context.modelLength();
        if (room <= 0) {
          return finish(
              EndReason.END_REASON_OVER_LENGTH,
              Optional.empty(),
              "context holds " + context.modelLength() + " tokens, the limit is " + limit);
        }
        Turn.Builder turn = Turn.newBuilder();
        Generation gen = generate(turn, turnNo, Math.min(settings.maxTokensPerTurn(), room));
        ParsedTurn parsed = ResponseParser.parse(gen.text());
        boolean cutOff = gen.finish() == FinishReason.FINISH_REASON_LENGTH;
        if (parsed.answer().isPresent()) {
          Answer answer = parsed.answer().get();
          out.addTurns(turn);
          if (answer.closed()) {
            return finish(EndReason.END_REASON_DONE, parsed.answer(), "");
          }
          return cutOff
              ? finish(EndReason.END_REASON_OVER_LENGTH, Optional.empty(), "answer cut off")
              : finish(EndReason.END_REASON_FORMAT_ERROR, Optional.empty(), "unclosed <answer>");
        }
        if (cutOff) {
          out.addTurns(turn);
          return finish(
              EndReason.END_REASON_OVER_LENGTH,
              Optional.empty(),
              "turn " + turnNo + " reached the token limit before its code or answer closed");
        }
        if (parsed.code().isEmpty()) {
          out.addTurns(turn);
          return finish(
              EndReason.END_REASON_FORMAT_ERROR,
              Optional.empty(),
              "turn " + turnNo + " has neither code nor an answer");
        }
        String code = parsed.code().get();
        turn.setCode(code);
        if (turnNo >= settings.maxTurns()) {
          // No turn is left to read the output, so the code is not run.
          out.addTurns(turn);
          return finish(
              EndReason.END_REASON_EXCEED_MAX_TURNS,
              Optional.empty(),
              "no answer within " + settings.maxTurns() + " turns");
        }
        ExecuteResponse response = execute(session, code, turn);
        ExecStatus status = response.getStatus();
        boolean sessionGone =
            status == ExecStatus.EXEC_STATUS_KILLED
                || (status == ExecStatus.EXEC_STATUS_TIMEOUT && !response.getSessionAlive());
        int room2 = Math.max(0, settings.maxImagesInContext() - context.imageCount());
        ObservationRenderer.Rendered rendered =
            ObservationRenderer.render(response, context.imageCount(), room2);
        Observation observation = rendered.observation();
        turn.setObservation(observation);
        if (sessionGone
            || (status != ExecStatus.EXEC_STATUS_OK && settings.endOnExecutionError())) {
          out.addTurns(turn);
          return finish(
              EndReason.END_REASON_ERROR_IN_ACTION,
              Optional.empty(),
              "turn " + turnNo + ": " + status.name() + " " + response.getError());
        }
        turn.setObservationStart(context.size());
        write(settings.chatFormat().observation(rendered.pieces()));
        turn.setObservationCount(context.size() - turn.getObservationStart());
        context.addMessage(Role.OBSERVATION, rendered.pieces());
        out.addTurns(turn);
      }
    }

    private Generation generate(Turn.Builder turn, int turnNo, int maxNew) throws PolicyFailure {
      long seed =
          settings.seed() == 0
              ? 0
              : mix(settings.seed(), task.getTaskId().hashCode(), attempt, turnNo);
      Sampling sampling =
          new Sampling(
              settings.temperature(), settings.topP(), maxNew, List.of(AgentSettings.STOP), seed);
      long t0 = System.nanoTime();
      Generation gen = policy.generate(context, sampling, out.getTrajectoryId() + "/t" + turnNo);
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      metrics.policy(took);
      policyMs += took.toNanos() / 1e6;
      turn.setText(gen.text())
          .setPolicyVersion(gen.policyVersion())
          .setGeneratedStart(context.size())
          .setGeneratedCount(gen.tokenIds().length)
          .setPolicyMs(took.toNanos() / 1e6);
      if (!versionSet) {
        out.setPolicyVersion(gen.policyVersion());
        versionSet = true;
      }
      context.appendGenerated(gen.tokenIds(), gen.logprobs());
      context.addMessage(Role.ASSISTANT, List.of(new Text(gen.text())));
      generatedText.append(gen.text()).append('\n');
      return gen;
    }

    private ExecuteResponse execute(SandboxSession session, String code, Turn.Builder turn)
        throws SandboxFailure {
      long t0 = System.nanoTime();
      ExecuteResponse response = session.execute(code);
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      metrics.sandboxExecute(took);
      sandboxMs += took.toNanos() / 1e6;
      turn.setSandboxMs(took.toNanos() / 1e6);
      if (response.getStatus() == ExecStatus.EXEC_STATUS_UNSPECIFIED
          || response.getStatus() == ExecStatus.UNRECOGNIZED) {
        throw new SandboxFailure(
            session.endpoint(),
            "sandbox " + session.endpoint() + " sent no execution status",
            null);
      }
      toolCalls++;
      return response;
    }

    /** Tokenizes text runs and places image placeholders, appending to the context. */
    private void write(List<Piece> pieces) throws PolicyFailure {
      StringBuilder run = new StringBuilder();
      for (Piece piece : pieces) {
        switch (piece) {
          case Text t -> run.append(t.text());
          case Picture p -> {
            flush(run);
            context.appendImage(facts.imageTokenId(), p.image());
          }
        }
      }
      flush(run);
    }

    private void flush(StringBuilder run) throws PolicyFailure {
      if (!run.isEmpty()) {
        context.appendMasked(policy.tokenize(run.toString()));
        run.setLength(0);
      }
    }

    private Trajectory finish(EndReason reason, Optional<Answer> answer, String message) {
      fillTokens();
      out.setEndReason(reason)
          .setToolCalls(toolCalls)
          .setAnswer(answer.map(Answer::extracted).orElse(""))
          .setFailureMessage(message)
          .setReward(rewards.score(task, reason, answer, toolCalls, generatedText.toString()))
          .setTimings(timings());
      return out.build();
    }

    Trajectory infraFailure(InfraFailure failure) {
      fillTokens();
      return out.setEndReason(failure.endReason())
          .setToolCalls(toolCalls)
          .setFailureMessage(failure.getMessage())
          .setTimings(timings())
          .build();
    }

    private void fillTokens() {
      out.clearTokenIds().clearLogprobs().clearLossMask();
      for (int id : context.tokenIds()) {
        out.addTokenIds(id);
      }
      for (float lp : context.logprobs()) {
        out.addLogprobs(lp);
      }
      for (byte m : context.lossMask()) {
        out.addLossMask(m);
      }
    }

    private Timings timings() {
      return Timings.newBuilder()
          .setStartedUnixMs(startedMs)
          .setFinishedUnixMs(System.currentTimeMillis())
          .setPolicyMs(policyMs)
          .setSandboxMs(sandboxMs)
          .build();
    }
  }

  /** A well-spread 64-bit seed from the run seed and the generation's coordinates. */
  static long mix(long seed, int task, int attempt, int turn) {
    long z = seed ^ ((long) task << 32) ^ ((long) attempt << 16) ^ turn;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    z = z ^ (z >>> 31);
    return z == 0 ? 1 : z;
  }
}

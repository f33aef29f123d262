package io.rolloutfarm.learner.dispatch;

import io.rolloutfarm.api.v1alpha1.AlgorithmSpec;
import io.rolloutfarm.learner.data.MediaLoader;
import io.rolloutfarm.learner.data.Prompt;
import io.rolloutfarm.learner.data.PromptDataset;
import io.rolloutfarm.learner.data.PromptSampler;
import io.rolloutfarm.learner.ofr.Group;
import io.rolloutfarm.proto.v1.EndReason;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.proto.v1.Trajectory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Hands prompts out as rollout tasks and takes the trajectories back.
 *
 * <p>Each admitted prompt becomes a group of {@code groupSize} tasks. Admission follows {@link
 * StalenessAdmission}. Tasks are leased with a deadline; leases that expire (a dead worker) put
 * their task back at the front of the queue. Trajectories are grouped by admission; a group is
 * complete when every member arrived. Infrastructure failures are never scored: under {@code Retry}
 * the member is leased again (up to {@code maxAttempts}), under {@code MaskGroup} (or when attempts
 * run out) the whole group is masked and its outstanding leases are revoked. Every {@code
 * roundSize} complete groups make one step's input ({@link #awaitRound}).
 *
 * <p>Thread-safe; one lock guards everything, and gRPC threads may long-poll in {@link #lease}.
 */
public final class Dispatcher {
  private final DispatcherConfig config;
  private final PromptSampler sampler;
  private final Map<String, Prompt> promptsById = new HashMap<>();
  private final MediaLoader media;
  private final StalenessAdmission admission;
  private final Clock clock;
  private final LongSupplier policyVersion;
  private final String leasePrefix;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Deque<PendingTask> queue = new ArrayDeque<>();
  private final Map<String, Lease> leases = new LinkedHashMap<>();
  private final Map<String, OpenGroup> open = new LinkedHashMap<>();
  private final Deque<Group> completed = new ArrayDeque<>();
  private long promptsAdmitted;
  private long groupSequence;
  private long stepsDone;
  private long leaseCounter;
  private boolean paused = true;
  private boolean finished;
  private boolean stopped;
  private final Counters counters = new Counters();

  /** Running totals, for status and metrics. */
  public static final class Counters {
    public long trajectoriesAccepted;
    public long trajectoriesRejected;
    public long infraFailures;
    public long leasesExpired;
    public long groupsMasked;
  }

  private record PendingTask(String groupKey, int index, int attempt) {}

  private static final class OpenGroup {
    final String key;
    final Prompt prompt;
    final long sequence;
    final Trajectory[] members;
    final int[] attempts;

    OpenGroup(String key, Prompt prompt, long sequence, int size) {
      this.key = key;
      this.prompt = prompt;
      this.sequence = sequence;
      this.members = new Trajectory[size];
      this.attempts = new int[size];
    }

    boolean full() {
      return Arrays.stream(members).allMatch(m -> m != null);
    }

    List<Trajectory> arrived() {
      return Arrays.stream(members).filter(m -> m != null).toList();
    }
  }

  /** Leases granted by one call. */
  public record LeaseGrant(List<Lease> leases, List<Task> tasks, boolean runFinished) {}

  /** The answer to one submission. */
  public record Ack(boolean accepted, String message) {}

  /** The answer to a renewal. */
  public record Renewal(List<String> expired, Instant deadline) {}

  public Dispatcher(
      DispatcherConfig config,
      PromptDataset dataset,
      PromptSampler sampler,
      MediaLoader media,
      Clock clock,
      LongSupplier policyVersion) {
    this.config = config;
    this.sampler = sampler;
    this.media = media;
    this.clock = clock;
    this.policyVersion = policyVersion;
    this.admission = new StalenessAdmission(config.roundSize(), config.maxOffPolicySteps());
    for (Prompt p : dataset.prompts()) {
      promptsById.put(p.id(), p);
    }
    this.leasePrefix =
        Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36) + "-";
  }

  // ---- leasing --------------------------------------------------------------------------

  /**
   * Leases up to {@code maxTasks} tasks, waiting up to {@code wait} for some to become available
   * (admission control, warm-up or evaluation may hold them back).
   */
  public LeaseGrant lease(String workerId, int maxTasks, Duration wait)
      throws InterruptedException {
    List<Lease> granted = new ArrayList<>();
    List<Prompt> prompts = new ArrayList<>();
    lock.lock();
    try {
      long waitNanos = wait.toNanos();
      while (true) {
        sweepExpiredLocked();
        if (finished || stopped) {
          return new LeaseGrant(List.of(), List.of(), finished);
        }
        if (!paused) {
          while (queue.size() < maxTasks && admission.mayAdmit(promptsAdmitted, stepsDone)) {
            admitLocked();
          }
          Instant deadline = clock.instant().plus(config.leaseDuration());
          while (granted.size() < maxTasks && !queue.isEmpty()) {
            PendingTask p = queue.pollFirst();
            Lease lease =
                new Lease(
                    leasePrefix + (++leaseCounter),
                    workerId,
                    p.groupKey(),
                    p.index(),
                    p.attempt(),
                    deadline);
            leases.put(lease.id(), lease);
            granted.add(lease);
            prompts.add(open.get(p.groupKey()).prompt);
          }
        }
        if (!granted.isEmpty() || waitNanos <= 0) {
          break;
        }
        waitNanos = changed.awaitNanos(waitNanos);
      }
    } finally {
      lock.unlock();
    }
    // Media are read outside the lock; they are cached per prompt.
    List<Task> tasks = new ArrayList<>(granted.size());
    for (int i = 0; i < granted.size(); i++) {
      tasks.add(task(prompts.get(i), granted.get(i)));
    }
    return new LeaseGrant(List.copyOf(granted), tasks, false);
  }

  private Task task(Prompt prompt, Lease lease) {
    return media
        .task(prompt, taskId(lease.groupKey(), lease.index(), lease.attempt()))
        .setGroupIndex(lease.index())
        .setAttempt(lease.attempt())
        .build();
  }

  static String taskId(String groupKey, int index, int attempt) {
    return groupKey + "/" + index + (attempt > 0 ? "~" + attempt : "");
  }

  private void admitLocked() {
    Prompt prompt = sampler.next();
    long sequence = groupSequence++;
    String key = prompt.id() + "#" + sequence;
    open.put(key, new OpenGroup(key, prompt, sequence, config.groupSize()));
    for (int i = 0; i < config.groupSize(); i++) {
      queue.addLast(new PendingTask(key, i, 0));
    }
    promptsAdmitted++;
  }

  /** Extends leases; unknown or expired ones are listed so the worker drops their work. */
  public Renewal renew(String workerId, List<String> leaseIds) {
    lock.lock();
    try {
      sweepExpiredLocked();
      Instant deadline = clock.instant().plus(config.leaseDuration());
      List<String> expired = new ArrayList<>();
      for (String id : leaseIds) {
        Lease lease = leases.get(id);
        if (lease == null) {
          expired.add(id);
        } else {
          leases.put(id, lease.renewed(deadline));
        }
      }
      return new Renewal(expired, deadline);
    } finally {
      lock.unlock();
    }
  }

  /** Gives leases back; their tasks return to the front of the queue. */
  public int release(String workerId, List<String> leaseIds) {
    lock.lock();
    try {
      int released = 0;
      for (String id : leaseIds) {
        Lease lease = leases.remove(id);
        if (lease != null) {
          requeueFront(lease);
          released++;
        }
      }
      if (released > 0) {
        changed.signalAll();
      }
      return released;
    } finally {
      lock.unlock();
    }
  }

  /** Expires overdue leases now; returns how many expired. */
  public int sweepExpired() {
    lock.lock();
    try {
      return sweepExpiredLocked();
    } finally {
      lock.unlock();
    }
  }

  private int sweepExpiredLocked() {
    Instant now = clock.instant();
    int expired = 0;
    for (Iterator<Lease> it = leases.values().iterator(); it.hasNext(); ) {
      Lease lease = it.next();
      if (!lease.deadline().isAfter(now)) {
        it.remove();
        requeueFront(lease);
        expired++;
      }
    }
    if (expired > 0) {
      counters.leasesExpired += expired;
      changed.signalAll();
    }
    return expired;
  }

  private void requeueFront(Lease lease) {
    if (open.containsKey(lease.groupKey())) {
      queue.addFirst(new PendingTask(lease.groupKey(), lease.index(), lease.attempt()));
    }
  }

  // ---- intake ---------------------------------------------------------------------------

  /** Takes one finished trajectory in. */
  public Ack submit(String leaseId, Trajectory trajectory) {
    lock.lock();
    try {
      sweepExpiredLocked();
      Lease lease = leases.get(leaseId);
      if (lease == null) {
        counters.trajectoriesRejected++;
        return new Ack(false, "unknown or expired lease '" + leaseId + "'; the task was re-leased");
      }
      OpenGroup group = open.get(lease.groupKey());
      String problem = malformed(trajectory, group, lease);
      if (problem != null) {
        leases.remove(leaseId);
        counters.trajectoriesRejected++;
        retryOrMask(group, lease);
        return new Ack(false, "malformed trajectory: " + problem);
      }
      if (isInfraFailure(trajectory.getEndReason())) {
        leases.remove(leaseId);
        counters.infraFailures++;
        if (config.infraFailure() == AlgorithmSpec.InfraFailurePolicy.MaskGroup) {
          maskLocked(group);
          return new Ack(true, "infrastructure failure recorded; group masked");
        }
        boolean retried = retryOrMask(group, lease);
        return new Ack(
            true,
            retried
                ? "infrastructure failure recorded; task re-queued (attempt "
                    + (lease.attempt() + 1)
                    + ")"
                : "infrastructure failure recorded; attempts exhausted, group masked");
      }
      long lag = policyVersion.getAsLong() - trajectory.getPolicyVersion();
      if (lag > config.maxOffPolicySteps()) {
        leases.remove(leaseId);
        counters.trajectoriesRejected++;
        retryOrMask(group, lease);
        return new Ack(
            false,
            "trajectory from policy version "
                + trajectory.getPolicyVersion()
                + " is "
                + lag
                + " versions behind (maxOffPolicySteps "
                + config.maxOffPolicySteps()
                + "); task re-queued");
      }
      leases.remove(leaseId);
      group.members[lease.index()] = trajectory.toBuilder().setAttempt(lease.attempt()).build();
      counters.trajectoriesAccepted++;
      if (group.full()) {
        open.remove(group.key);
        completed.addLast(
            new Group(group.key, group.prompt.id(), group.sequence, group.arrived(), false));
        changed.signalAll();
      }
      return new Ack(true, "");
    } finally {
      lock.unlock();
    }
  }

  private static boolean isInfraFailure(EndReason reason) {
    return reason == EndReason.END_REASON_SANDBOX_FAILURE
        || reason == EndReason.END_REASON_POLICY_FAILURE;
  }

  private static String malformed(Trajectory t, OpenGroup group, Lease lease) {
    if (!t.getPromptId().isEmpty() && !t.getPromptId().equals(group.prompt.id())) {
      return "prompt_id '"
          + t.getPromptId()
          + "' does not match the lease's '"
          + group.prompt.id()
          + "'";
    }
    if (t.getEndReason() == EndReason.END_REASON_UNSPECIFIED) {
      return "end_reason is unset";
    }
    if (isInfraFailure(t.getEndReason())) {
      return null;
    }
    int n = t.getTokenIdsCount();
    if (n == 0) {
      return "token_ids is empty";
    }
    if (t.getLossMaskCount() != n || t.getLogprobsCount() != n) {
      return "token_ids ("
          + n
          + "), loss_mask ("
          + t.getLossMaskCount()
          + ") and logprobs ("
          + t.getLogprobsCount()
          + ") must have the same length";
    }
    if (!t.hasReward()) {
      return "reward is missing (only infrastructure failures may lack one)";
    }
    return null;
  }

  /** Re-queues the lease's task with one more attempt; masks the group when none are left. */
  private boolean retryOrMask(OpenGroup group, Lease lease) {
    int attempt = lease.attempt() + 1;
    if (attempt >= config.maxAttempts()) {
      maskLocked(group);
      return false;
    }
    group.attempts[lease.index()] = attempt;
    queue.addFirst(new PendingTask(group.key, lease.index(), attempt));
    changed.signalAll();
    return true;
  }

  private void maskLocked(OpenGroup group) {
    open.remove(group.key);
    queue.removeIf(p -> p.groupKey().equals(group.key));
    // Outstanding leases are revoked: renewals report them expired so workers drop the work.
    leases.values().removeIf(l -> l.groupKey().equals(group.key));
    completed.addLast(
        new Group(group.key, group.prompt.id(), group.sequence, group.arrived(), true));
    counters.groupsMasked++;
    changed.signalAll();
  }

  // ---- steps ----------------------------------------------------------------------------

  /**
   * Waits until {@code roundSize} groups are complete and takes them, oldest first. Returns null
   * when {@code timeout} passes first or the dispatcher stops.
   */
  public List<Group> awaitRound(Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long nanos = timeout.toNanos();
      while (completed.size() < config.roundSize()) {
        if (stopped || nanos <= 0) {
          return null;
        }
        nanos = changed.awaitNanos(nanos);
      }
      List<Group> round = new ArrayList<>(config.roundSize());
      for (int i = 0; i < config.roundSize(); i++) {
        round.add(completed.pollFirst());
      }
      return round;
    } finally {
      lock.unlock();
    }
  }

  /** Records that {@code steps} steps are done, which opens admission for later ones. */
  public void stepsDone(long steps) {
    lock.lock();
    try {
      stepsDone = steps;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Holds new leases back (warm-up, evaluation) or lets them go. */
  public void setPaused(boolean paused) {
    lock.lock();
    try {
      this.paused = paused;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The run is over: leasing answers run_finished. */
  public void finish() {
    lock.lock();
    try {
      finished = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Wakes every waiter and refuses further work (shutdown). */
  public void stop() {
    lock.lock();
    try {
      stopped = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  public int activeLeases() {
    lock.lock();
    try {
      return leases.size();
    } finally {
      lock.unlock();
    }
  }

  public int completedGroups() {
    lock.lock();
    try {
      return completed.size();
    } finally {
      lock.unlock();
    }
  }

  /** A copy of the running totals. */
  public Counters counters() {
    lock.lock();
    try {
      Counters c = new Counters();
      c.trajectoriesAccepted = counters.trajectoriesAccepted;
      c.trajectoriesRejected = counters.trajectoriesRejected;
      c.infraFailures = counters.infraFailures;
      c.leasesExpired = counters.leasesExpired;
      c.groupsMasked = counters.groupsMasked;
      return c;
    } finally {
      lock.unlock();
    }
  }

  public Prompt prompt(String promptId) {
    return promptsById.get(promptId);
  }

  // ---- checkpoints ----------------------------------------------------------------------

  /** Everything accepted and not yet consumed, plus the data position. */
  public DispatcherState snapshot() {
    lock.lock();
    try {
      List<DispatcherState.OpenGroupState> openGroups = new ArrayList<>();
      for (OpenGroup g : open.values()) {
        openGroups.add(
            new DispatcherState.OpenGroupState(
                g.key,
                g.prompt.id(),
                g.sequence,
                Collections.unmodifiableList(Arrays.asList(g.members.clone())),
                Arrays.stream(g.attempts).boxed().toList()));
      }
      List<DispatcherState.CompletedGroupState> done = new ArrayList<>();
      for (Group g : completed) {
        done.add(
            new DispatcherState.CompletedGroupState(
                g.key(), g.promptId(), g.sequence(), g.trajectories(), g.masked()));
      }
      return new DispatcherState(
          sampler.cursor(), promptsAdmitted, groupSequence, openGroups, done);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Restores a snapshot into a fresh dispatcher (whose sampler already starts at the snapshot's
   * cursor): open groups get their missing members queued again.
   */
  public void restore(DispatcherState state, long steps) {
    lock.lock();
    try {
      if (!open.isEmpty() || !completed.isEmpty() || promptsAdmitted != 0) {
        throw new IllegalStateException("restore() needs a fresh dispatcher");
      }
      promptsAdmitted = state.promptsAdmitted();
      groupSequence = state.groupSequence();
      stepsDone = steps;
      for (DispatcherState.OpenGroupState g : state.openGroups()) {
        OpenGroup group =
            new OpenGroup(g.key(), requirePrompt(g.promptId()), g.sequence(), config.groupSize());
        for (int i = 0; i < config.groupSize(); i++) {
          group.members[i] = i < g.members().size() ? g.members().get(i) : null;
          group.attempts[i] = i < g.attempts().size() ? g.attempts().get(i) : 0;
          if (group.members[i] == null) {
            queue.addLast(new PendingTask(g.key(), i, group.attempts[i]));
          }
        }
        open.put(g.key(), group);
      }
      for (DispatcherState.CompletedGroupState g : state.completedGroups()) {
        completed.addLast(
            new Group(g.key(), g.promptId(), g.sequence(), g.trajectories(), g.masked()));
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private Prompt requirePrompt(String promptId) {
    Prompt p = promptsById.get(promptId);
    if (p == null) {
      throw new IllegalStateException(
          "checkpoint refers to prompt '" + promptId + "', which the dataset no longer has");
    }
    return p;
  }
}

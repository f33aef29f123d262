package io.rolloutfarm.learner.checkpoint;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rolloutfarm.learner.dispatch.DispatcherState;
import io.rolloutfarm.learner.ofr.Group;
import io.rolloutfarm.proto.v1.Trajectory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/** Converts between in-memory groups and the base64-protobuf records of {@link LearnerState}. */
public final class StateCodec {
  private StateCodec() {}

  public static String encode(Trajectory t) {
    return t == null ? null : Base64.getEncoder().encodeToString(t.toByteArray());
  }

  public static Trajectory decode(String s) {
    if (s == null) {
      return null;
    }
    try {
      return Trajectory.parseFrom(Base64.getDecoder().decode(s));
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      throw new IllegalStateException(
          "checkpoint holds an unreadable trajectory: " + e.getMessage(), e);
    }
  }

  private static List<String> encodeAll(List<Trajectory> ts) {
    List<String> out = new ArrayList<>(ts.size());
    for (Trajectory t : ts) {
      out.add(encode(t));
    }
    return out;
  }

  private static List<Trajectory> decodeAll(List<String> ss) {
    List<Trajectory> out = new ArrayList<>(ss.size());
    for (String s : ss) {
      out.add(decode(s));
    }
    return Collections.unmodifiableList(out);
  }

  public static LearnerState.GroupRecord group(Group g) {
    return new LearnerState.GroupRecord(
        g.key(), g.promptId(), g.sequence(), g.masked(), encodeAll(g.trajectories()), List.of());
  }

  public static Group group(LearnerState.GroupRecord r) {
    return new Group(r.key(), r.promptId(), r.sequence(), decodeAll(r.trajectories()), r.masked());
  }

  public static LearnerState.GroupRecord open(DispatcherState.OpenGroupState g) {
    return new LearnerState.GroupRecord(
        g.key(), g.promptId(), g.sequence(), false, encodeAll(g.members()), g.attempts());
  }

  public static DispatcherState.OpenGroupState open(LearnerState.GroupRecord r) {
    return new DispatcherState.OpenGroupState(
        r.key(), r.promptId(), r.sequence(), decodeAll(r.trajectories()), r.attempts());
  }

  public static LearnerState.GroupRecord completed(DispatcherState.CompletedGroupState g) {
    return new LearnerState.GroupRecord(
        g.key(), g.promptId(), g.sequence(), g.masked(), encodeAll(g.trajectories()), List.of());
  }

  public static DispatcherState.CompletedGroupState completed(LearnerState.GroupRecord r) {
    return new DispatcherState.CompletedGroupState(
        r.key(), r.promptId(), r.sequence(), decodeAll(r.trajectories()), r.masked());
  }
}

package io.rolloutfarm.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Observation;
import io.rolloutfarm.proto.v1.RewardBreakdown;
import io.rolloutfarm.proto.v1.Trajectory;
import io.rolloutfarm.proto.v1.Turn;

/**
 * A trajectory as readable JSON for people (what {@code farm rollout} prints): every turn's text
 * and code, observations with image counts and sizes, the answer, end reason and reward breakdown.
 * Token ids are summarised, not listed.
 */
public final class TrajectoryJson {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private TrajectoryJson() {}

  /** The JSON tree of a trajectory. */
  public static ObjectNode toJson(Trajectory t) {
    ObjectNode root = JSON.createObjectNode();
    root.put("trajectory_id", t.getTrajectoryId());
    root.put("task_id", t.getTaskId());
    root.put("end_reason", t.getEndReason().name().substring("END_REASON_".length()));
    root.put("answer", t.getAnswer());
    if (t.hasReward()) {
      RewardBreakdown r = t.getReward();
      ObjectNode reward = root.putObject("reward");
      reward.put("total", r.getTotal());
      reward.put("accuracy", r.getAccuracy());
      reward.put("tool_bonus", r.getToolBonus());
      reward.put("format", r.getFormat());
      reward.put("repetition_penalty", r.getRepetitionPenalty());
      reward.put("extracted_answer", r.getExtractedAnswer());
      reward.put("note", r.getNote());
    } else {
      root.putNull("reward");
    }
    if (!t.getFailureMessage().isEmpty()) {
      root.put("message", t.getFailureMessage());
    }
    root.put("tool_calls", t.getToolCalls());
    root.put("attempt", t.getAttempt());
    root.put("policy_version", t.getPolicyVersion());
    ObjectNode tokens = root.putObject("tokens");
    tokens.put("total", t.getTokenIdsCount());
    tokens.put("prompt", t.getPromptTokens());
    tokens.put("generated", t.getLossMaskList().stream().mapToInt(Integer::intValue).sum());
    ArrayNode turns = root.putArray("turns");
    for (Turn turn : t.getTurnsList()) {
      ObjectNode n = turns.addObject();
      n.put("text", turn.getText());
      n.put("code", turn.getCode());
      n.put("generated_tokens", turn.getGeneratedCount());
      n.put("policy_ms", Math.round(turn.getPolicyMs() * 10) / 10.0);
      if (turn.hasObservation()) {
        Observation o = turn.getObservation();
        ObjectNode obs = n.putObject("observation");
        obs.put("status", o.getStatus().name().substring("EXEC_STATUS_".length()));
        obs.put("stdout", o.getStdout());
        if (!o.getStderr().isEmpty()) {
          obs.put("stderr", o.getStderr());
        }
        if (!o.getError().isEmpty()) {
          obs.put("error", o.getError());
        }
        obs.put("image_count", o.getImagesCount());
        ArrayNode sizes = obs.putArray("images");
        for (Image image : o.getImagesList()) {
          sizes
              .addObject()
              .put("width", image.getWidth())
              .put("height", image.getHeight())
              .put("png_bytes", image.getPng().size());
        }
        obs.put("images_dropped", o.getImagesDropped());
        obs.put("rendered", o.getRendered());
        obs.put("observation_tokens", turn.getObservationCount());
        obs.put("sandbox_ms", Math.round(turn.getSandboxMs() * 10) / 10.0);
      }
    }
    ObjectNode timings = root.putObject("timings_ms");
    timings.put("wall", t.getTimings().getFinishedUnixMs() - t.getTimings().getStartedUnixMs());
    timings.put("policy", Math.round(t.getTimings().getPolicyMs() * 10) / 10.0);
    timings.put("sandbox", Math.round(t.getTimings().getSandboxMs() * 10) / 10.0);
    return root;
  }

  /** Pretty-printed JSON text. */
  public static String toText(Trajectory t) {
    try {
      return JSON.writeValueAsString(toJson(t));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

package io.rolloutfarm.cli.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rolloutfarm.learner.data.MediaLoader;
import io.rolloutfarm.learner.data.Prompt;
import io.rolloutfarm.learner.data.PromptDataset;
import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.worker.agent.AgentSettings;
import io.rolloutfarm.worker.agent.Context.Picture;
import io.rolloutfarm.worker.agent.Context.Piece;
import io.rolloutfarm.worker.agent.Context.Text;
import io.rolloutfarm.worker.agent.ContextImages;
import io.rolloutfarm.worker.agent.InfraFailure.SandboxFailure;
import io.rolloutfarm.worker.agent.ObservationRenderer;
import io.rolloutfarm.worker.agent.PromptTemplate;
import io.rolloutfarm.worker.agent.ResponseParser;
import io.rolloutfarm.worker.sandbox.SandboxSession;
import io.rolloutfarm.worker.sandbox.Sandboxes;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Writes behaviour-cloning demonstrations for the warm-up from a suite's training split: for each
 * record, either its scripted expert (code, executed in a real sandbox, then the answer the code
 * printed) or its direct guess (an answer without code), chosen at random with a fixed seed. The
 * mixture makes the warm-up policy imperfect on purpose, so that RL has room to discover that tool
 * use pays.
 *
 * <p>Each demonstration is the exact token stream the agent loop builds for the built-in model
 * (same prompt template, chat format and observation rendering), in the learner's {@code segments}
 * form: context text and images are not imitated, the responses and the final end-of-sequence token
 * are.
 */
final class DemonstrationWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** End-of-sequence, spelled so that the engine's tokenizer maps it to its special token. */
  static final String EOS = "<|eos|>";

  /**
   * Changes whenever what this class writes changes, so that demonstrations written by an earlier
   * version are made again instead of silently reused.
   */
  static final int FORMAT = 2;

  /** What was written. */
  record Written(int expert, int guess, int skipped) {}

  private final AgentSettings settings;
  private final Sandboxes sandboxes;

  DemonstrationWriter(AgentSettings settings, Sandboxes sandboxes) {
    this.settings = settings;
    this.sandboxes = sandboxes;
  }

  /**
   * Writes one demonstration per record of {@code suiteJsonl} to {@code out}.
   *
   * @param expertFraction probability that a record contributes its expert rather than its guess
   */
  Written write(Path suiteJsonl, Path out, double expertFraction, long seed)
      throws IOException, SandboxFailure {
    PromptDataset dataset = PromptDataset.load(suiteJsonl);
    Map<String, JsonNode> records = readRecords(suiteJsonl);
    MediaLoader media = new MediaLoader(16);
    Random random = new Random(seed);
    int expert = 0;
    int guess = 0;
    int skipped = 0;
    Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      for (Prompt p : dataset.prompts()) {
        JsonNode record = records.get(p.id());
        boolean useExpert = random.nextDouble() < expertFraction;
        List<String> responses = strings(record, useExpert ? "expert" : "guess");
        if (responses.isEmpty()) {
          skipped++;
          continue;
        }
        Task task = media.task(p, p.id()).build();
        String id = (useExpert ? "expert/" : "guess/") + p.id();
        ObjectNode demo = withRetries(() -> demonstration(task, responses, id));
        if (demo == null) {
          skipped++;
          continue;
        }
        w.write(JSON.writeValueAsString(demo));
        w.newLine();
        if (useExpert && responses.size() > 1) {
          // Reading the answer off the interpreter output is a few tokens among a code block of
          // hundreds; the trajectory's tail once more, with only its answer imitated, gives them
          // the weight they need in the token-mean loss.
          w.write(JSON.writeValueAsString(answerOnly(demo, "expert-answer/" + p.id())));
          w.newLine();
        }
        if (useExpert) {
          expert++;
        } else {
          guess++;
        }
      }
    }
    Files.move(
        tmp,
        out,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return new Written(expert, guess, skipped);
  }

  /** Something that talks to a sandbox. */
  private interface SandboxCall<T> {
    T call() throws SandboxFailure;
  }

  /** Runs a sandbox call again (fresh session) after a failure of the sandbox, up to 3 times. */
  private static <T> T withRetries(SandboxCall<T> call) throws SandboxFailure {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.call();
      } catch (SandboxFailure e) {
        if (attempt >= 3) {
          throw e;
        }
        try {
          Thread.sleep(200L * attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /**
   * One demonstration, or null when a response's code did not run cleanly (the expert is supposed
   * to be correct; a demonstration of a failure would teach the wrong thing).
   */
  ObjectNode demonstration(Task task, List<String> responses, String id) throws SandboxFailure {
    ArrayNode segments = JSON.createArrayNode();
    List<Image> taskImages = ContextImages.of(task);
    PromptTemplate template =
        ContextImages.hasVideo(task) ? settings.videoTemplate() : settings.imageTemplate();
    List<Piece> prompt =
        settings
            .chatFormat()
            .prompt(template.system(task, taskImages), template.user(task, taskImages));
    add(segments, prompt, false);
    int images = taskImages.size();
    SandboxSession session = null;
    try {
      for (String response : responses) {
        add(segments, List.of(new Text(response)), true);
        ResponseParser.ParsedTurn turn = ResponseParser.parse(response);
        if (turn.answer().isPresent()) {
          add(segments, List.of(new Text(EOS)), true);
          ObjectNode demo = JSON.createObjectNode();
          demo.put("id", id);
          demo.set("segments", segments);
          return demo;
        }
        if (turn.code().isEmpty()) {
          return null;
        }
        if (session == null) {
          session = sandboxes.open(task.getMediaList(), id, Set.of());
        }
        ExecuteResponse result = session.execute(turn.code().get());
        if (result.getStatus() != ExecStatus.EXEC_STATUS_OK) {
          return null;
        }
        int room = Math.max(0, settings.maxImagesInContext() - images);
        ObservationRenderer.Rendered rendered = ObservationRenderer.render(result, images, room);
        images += rendered.observation().getImagesCount();
        add(segments, settings.chatFormat().observation(rendered.pieces()), false);
      }
      return null; // never answered
    } finally {
      if (session != null) {
        session.close();
      }
    }
  }

  /**
   * The tail of a demonstration from its last observation on, in which only the final answer (and
   * end of sequence) is imitated: reading the answer off the interpreter output needs nothing
   * before that output, and the short sequence costs a fraction of the whole trajectory.
   */
  static ObjectNode answerOnly(ObjectNode demo, String id) {
    ObjectNode copy = demo.deepCopy();
    copy.put("id", id);
    ArrayNode segments = (ArrayNode) copy.get("segments");
    int lastContext = -1;
    for (int i = 0; i < segments.size(); i++) {
      if (!segments.get(i).path("train").asBoolean(false)) {
        lastContext = i;
      }
    }
    // The observation starts right after the last generated turn before the answer.
    int lastTurn = -1;
    for (int i = 0; i < lastContext; i++) {
      if (segments.get(i).path("train").asBoolean(false)) {
        lastTurn = i;
      }
    }
    ArrayNode tail = JSON.createArrayNode();
    for (int i = lastTurn + 1; i < segments.size(); i++) {
      tail.add(segments.get(i));
    }
    copy.set("segments", tail);
    return copy;
  }

  private static void add(ArrayNode segments, List<Piece> pieces, boolean train) {
    for (Piece piece : pieces) {
      ObjectNode seg = segments.addObject();
      switch (piece) {
        case Text t -> seg.put("text", t.text());
        case Picture p ->
            seg.put(
                "image_base64",
                Base64.getEncoder().encodeToString(p.image().getPng().toByteArray()));
      }
      if (train && piece instanceof Text) {
        seg.put("train", true);
      }
    }
    // Empty separators carry nothing; drop them to keep the file readable.
    for (int i = segments.size() - 1; i >= 0; i--) {
      JsonNode s = segments.get(i);
      if (s.has("text") && s.get("text").asText().isEmpty()) {
        segments.remove(i);
      }
    }
  }

  private static Map<String, JsonNode> readRecords(Path jsonl) throws IOException {
    Map<String, JsonNode> out = new HashMap<>();
    for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        JsonNode n = JSON.readTree(line);
        out.put(n.path("id").asText(), n);
      }
    }
    return out;
  }

  private static List<String> strings(JsonNode record, String field) {
    List<String> out = new ArrayList<>();
    if (record != null) {
      for (JsonNode n : record.path(field)) {
        out.add(n.asText());
      }
    }
    return out;
  }
}

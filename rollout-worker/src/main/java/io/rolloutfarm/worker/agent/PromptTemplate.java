package io.rolloutfarm.worker.agent;

import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Task;
import io.rolloutfarm.worker.agent.Context.Picture;
import io.rolloutfarm.worker.agent.Context.Piece;
import io.rolloutfarm.worker.agent.Context.Text;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A prompt template file: an optional {@code === system ===} section and a {@code === user ===}
 * section (a file without section lines is all user text). Placeholders:
 *
 * <ul>
 *   <li>{@code {{question}}}: the task's question
 *   <li>{@code {{images}}}: per input image, a line {@code image_clue_i: <image>} where the image
 *       enters the context
 *   <li>{@code {{image_count}}}, {@code {{image_sizes}}} (one {@code image_clue_i: W x H} line per
 *       image)
 *   <li>{@code {{video_frames}}}, {@code {{video_fps}}}, {@code {{video_width}}}, {@code
 *       {{video_height}}}: the video's metadata (the video itself never enters the context)
 * </ul>
 */
public final class PromptTemplate {
  /** The placeholders a template may use. */
  public static final Set<String> VARIABLES =
      Set.of(
          "question",
          "images",
          "image_count",
          "image_sizes",
          "video_frames",
          "video_fps",
          "video_width",
          "video_height");

  private static final Pattern VARIABLE = Pattern.compile("\\{\\{([a-z_]+)}}");
  private static final Pattern SECTION = Pattern.compile("(?m)^=== (system|user) ===\\R");

  private final String origin;
  private final String system;
  private final String user;

  private PromptTemplate(String origin, String system, String user) {
    this.origin = origin;
    this.system = system;
    this.user = user;
  }

  /** Parses template text; {@code origin} names it in error messages. */
  public static PromptTemplate parse(String origin, String text) {
    String system = "";
    String user;
    Matcher m = SECTION.matcher(text);
    List<int[]> marks = new ArrayList<>();
    List<String> names = new ArrayList<>();
    while (m.find()) {
      marks.add(new int[] {m.start(), m.end()});
      names.add(m.group(1));
    }
    if (marks.isEmpty()) {
      user = text;
    } else {
      if (!text.substring(0, marks.get(0)[0]).isBlank()) {
        throw new IllegalArgumentException(
            origin + ": text before the first '=== system ===' or '=== user ===' line");
      }
      user = null;
      for (int i = 0; i < marks.size(); i++) {
        int end = i + 1 < marks.size() ? marks.get(i + 1)[0] : text.length();
        String body = stripFinalNewline(text.substring(marks.get(i)[1], end));
        if (names.get(i).equals("system")) {
          system = body;
        } else {
          user = body;
        }
      }
      if (user == null) {
        throw new IllegalArgumentException(origin + ": no '=== user ===' section");
      }
    }
    Matcher v = VARIABLE.matcher(system + user);
    while (v.find()) {
      if (!VARIABLES.contains(v.group(1))) {
        throw new IllegalArgumentException(
            origin
                + ": unknown placeholder {{"
                + v.group(1)
                + "}} (known: "
                + VARIABLES.stream().sorted().toList()
                + ")");
      }
    }
    if (!user.contains("{{question}}")) {
      throw new IllegalArgumentException(origin + ": the user section lacks {{question}}");
    }
    return new PromptTemplate(origin, system, user);
  }

  /** Loads a template file. */
  public static PromptTemplate load(Path file) {
    try {
      return parse(file.toString(), Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": prompt template not found", e);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read prompt template", e);
    }
  }

  /** Loads a built-in template from {@code prompts/NAME.txt} on the class path. */
  public static PromptTemplate builtin(String name) {
    String resource = "/prompts/" + name + ".txt";
    try (InputStream in = PromptTemplate.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException("no built-in prompt template " + resource);
      }
      return parse(resource, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Where the template came from. */
  public String origin() {
    return origin;
  }

  /** The system message for a task (empty when the template has none). */
  public List<Piece> system(Task task, List<Image> images) {
    return render(system, task, images);
  }

  /** The user message for a task, with the task's images where {@code {{images}}} stands. */
  public List<Piece> user(Task task, List<Image> images) {
    return render(user, task, images);
  }

  private static List<Piece> render(String template, Task task, List<Image> images) {
    List<Piece> pieces = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    Matcher m = VARIABLE.matcher(template);
    int last = 0;
    while (m.find()) {
      text.append(template, last, m.start());
      last = m.end();
      switch (m.group(1)) {
        case "images" -> {
          for (int i = 0; i < images.size(); i++) {
            text.append("image_clue_").append(i).append(": ");
            flush(text, pieces);
            pieces.add(new Picture(images.get(i)));
            text.append('\n');
          }
        }
        case "question" -> text.append(task.getQuestion());
        case "image_count" -> text.append(images.size());
        case "image_sizes" -> {
          for (int i = 0; i < images.size(); i++) {
            Image image = images.get(i);
            text.append(i == 0 ? "" : "\n")
                .append("image_clue_")
                .append(i)
                .append(": Image Width: ")
                .append(image.getWidth())
                .append("; Image Height: ")
                .append(image.getHeight());
          }
        }
        case "video_frames" -> text.append(task.getVideoInfo().getFrameCount());
        case "video_fps" ->
            text.append(String.format(Locale.ROOT, "%.2f", task.getVideoInfo().getFps()));
        case "video_width" -> text.append(task.getVideoInfo().getWidth());
        case "video_height" -> text.append(task.getVideoInfo().getHeight());
        default -> throw new IllegalStateException("checked at parse time: " + m.group(1));
      }
    }
    text.append(template, last, template.length());
    flush(text, pieces);
    return pieces;
  }

  private static void flush(StringBuilder text, List<Piece> pieces) {
    if (!text.isEmpty()) {
      pieces.add(new Text(text.toString()));
      text.setLength(0);
    }
  }

  private static String stripFinalNewline(String s) {
    return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
  }
}

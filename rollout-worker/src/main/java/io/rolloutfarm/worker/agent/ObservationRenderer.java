package io.rolloutfarm.worker.agent;

import io.rolloutfarm.proto.v1.ExecStatus;
import io.rolloutfarm.proto.v1.ExecuteResponse;
import io.rolloutfarm.proto.v1.Image;
import io.rolloutfarm.proto.v1.Observation;
import io.rolloutfarm.worker.agent.Context.Picture;
import io.rolloutfarm.worker.agent.Context.Piece;
import io.rolloutfarm.worker.agent.Context.Text;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders sandbox output in the PyVision format:
 *
 * <pre>
 * &lt;interpreter&gt;Text Result:
 * stdout
 * Image Result:
 * &lt;image_clue_k&gt;[image]&lt;/image_clue_k&gt;&lt;/interpreter&gt;
 * </pre>
 *
 * with a text-only variant and an error variant ({@code Error:} followed by the traceback). Image
 * numbers {@code k} continue after the task's images, counting every image in the context.
 */
public final class ObservationRenderer {
  private ObservationRenderer() {}

  /** An observation ready to enter the context. */
  public record Rendered(List<Piece> pieces, Observation observation) {}

  /**
   * @param firstImageIndex number of images already in the context
   * @param imageRoom how many more images the context may take
   */
  public static Rendered render(ExecuteResponse response, int firstImageIndex, int imageRoom) {
    List<Image> shown =
        response.getImagesList().subList(0, Math.min(imageRoom, response.getImagesCount()));
    int dropped = response.getImagesCount() - shown.size() + response.getImagesDropped();
    List<Piece> pieces = new ArrayList<>();
    StringBuilder text = new StringBuilder("<interpreter>");
    boolean failed = response.getStatus() != ExecStatus.EXEC_STATUS_OK;
    String stdout = response.getStdout();
    if (!failed || !stdout.isEmpty()) {
      text.append("Text Result:\n").append(stdout);
    }
    if (failed) {
      if (!stdout.isEmpty()) {
        text.append('\n');
      }
      text.append("Error:\n").append(errorText(response));
    }
    if (!shown.isEmpty()) {
      text.append("\nImage Result:\n");
      for (int i = 0; i < shown.size(); i++) {
        int k = firstImageIndex + i;
        text.append("<image_clue_").append(k).append('>');
        pieces.add(new Text(text.toString()));
        pieces.add(new Picture(shown.get(i)));
        text.setLength(0);
        text.append("</image_clue_").append(k).append('>');
      }
    }
    if (dropped > 0) {
      text.append("\n(")
          .append(dropped)
          .append(dropped == 1 ? " image" : " images")
          .append(" not shown: the context image limit is reached)");
    }
    text.append("</interpreter>");
    pieces.add(new Text(text.toString()));
    StringBuilder rendered = new StringBuilder();
    for (Piece piece : pieces) {
      rendered.append(
          switch (piece) {
            case Text t -> t.text();
            case Picture p -> "<image>";
          });
    }
    Observation observation =
        Observation.newBuilder()
            .setStatus(response.getStatus())
            .setStdout(response.getStdout())
            .setStderr(response.getStderr())
            .setError(response.getError())
            .addAllImages(shown)
            .setImagesDropped(dropped)
            .setRendered(rendered.toString())
            .build();
    return new Rendered(pieces, observation);
  }

  private static String errorText(ExecuteResponse response) {
    String stderr = response.getStderr().strip();
    String error = response.getError().strip();
    String prefix = response.getStatus() == ExecStatus.EXEC_STATUS_TIMEOUT ? "Timeout: " : "";
    if (!stderr.isEmpty()) {
      return prefix.isEmpty() ? stderr : prefix + error + "\n" + stderr;
    }
    return prefix + (error.isEmpty() ? response.getStatus().name() : error);
  }
}

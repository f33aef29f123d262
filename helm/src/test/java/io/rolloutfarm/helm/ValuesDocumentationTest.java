package io.rolloutfarm.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every setting in values.yaml has a comment above it and a described entry in the schema. */
class ValuesDocumentationTest {
  private static final Pattern KEY = Pattern.compile("^( *)([A-Za-z0-9_.\\-/]+):(.*)$");

  private record Entry(int indent, String key, JsonNode schema) {}

  @Test
  void everySettingIsCommentedAndDescribedInTheSchema() throws Exception {
    List<String> lines = Files.readAllLines(HelmTool.CHART.resolve("values.yaml"));
    JsonNode schema =
        new ObjectMapper().readTree(Files.readString(HelmTool.CHART.resolve("values.schema.json")));
    Deque<Entry> path = new ArrayDeque<>();
    List<String> problems = new ArrayList<>();
    int settings = 0;
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = KEY.matcher(lines.get(i));
      if (!m.matches()) {
        continue;
      }
      int indent = m.group(1).length();
      while (!path.isEmpty() && path.peek().indent() >= indent) {
        path.pop();
      }
      JsonNode parent = path.isEmpty() ? schema : path.peek().schema();
      if (parent == null) {
        path.push(new Entry(indent, m.group(2), null));
        continue; // inside a free-form map or list: content, not a setting
      }
      JsonNode node = parent.path("properties").get(m.group(2));
      String where = "values.yaml:" + (i + 1) + " " + dotted(path, m.group(2));
      if (node == null) {
        if (!parent.has("properties")) {
          path.push(new Entry(indent, m.group(2), null));
          continue;
        }
        problems.add(where + " is not in values.schema.json");
        path.push(new Entry(indent, m.group(2), null));
        continue;
      }
      // A described node is one setting, even an object (resources); others group settings.
      boolean section = node.has("properties") && !node.has("description");
      if (!section) {
        settings++;
        if (!commentAbove(lines, i)) {
          problems.add(where + " has no comment above it");
        }
        if (!node.hasNonNull("description")) {
          problems.add(where + " has no description in values.schema.json");
        }
      }
      path.push(new Entry(indent, m.group(2), section ? node : null));
    }
    assertThat(problems).isEmpty();
    assertThat(settings).isGreaterThan(30);
  }

  private static boolean commentAbove(List<String> lines, int i) {
    for (int j = i - 1; j >= 0; j--) {
      String line = lines.get(j).strip();
      if (!line.isEmpty()) {
        return line.startsWith("#");
      }
    }
    return false;
  }

  private static String dotted(Deque<Entry> path, String key) {
    List<String> keys = new ArrayList<>();
    path.descendingIterator().forEachRemaining(e -> keys.add(e.key()));
    keys.add(key);
    return String.join(".", keys);
  }
}

package io.rolloutfarm.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A benchmark table printed with aligned columns, plus a JSON writer for {@code --json}. */
public final class BenchTable {
  private final String title;
  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  public BenchTable(String title, String... headers) {
    this.title = title;
    this.headers = List.of(headers);
  }

  /** Adds a row; values are printed with {@link String#valueOf}. */
  public BenchTable row(Object... values) {
    if (values.length != headers.size()) {
      throw new IllegalArgumentException(
          "row has " + values.length + " values for " + headers.size() + " columns");
    }
    List<String> row = new ArrayList<>();
    for (Object v : values) {
      row.add(String.valueOf(v));
    }
    rows.add(row);
    return this;
  }

  /** Adds a line printed under the table. */
  public BenchTable note(String note) {
    notes.add(note);
    return this;
  }

  /** Prints the table. */
  public void print(PrintWriter out) {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    out.println(title);
    printRow(out, headers, widths);
    StringBuilder rule = new StringBuilder();
    for (int i = 0; i < widths.length; i++) {
      rule.append(i == 0 ? "" : "-+-").append("-".repeat(widths[i]));
    }
    out.println(rule);
    for (List<String> row : rows) {
      printRow(out, row, widths);
    }
    for (String note : notes) {
      out.println(note);
    }
    out.flush();
  }

  private static void printRow(PrintWriter out, List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      line.append(i == 0 ? "" : " | ");
      String cell = cells.get(i);
      // Numbers right-aligned, text left-aligned.
      boolean numeric = cell.matches("-?[0-9.,%]+");
      String pad = " ".repeat(widths[i] - cell.length());
      line.append(numeric ? pad + cell : cell + pad);
    }
    out.println(line.toString().stripTrailing());
  }

  /** Writes figures as a JSON object. */
  public static void writeJson(Path file, Map<String, ?> figures) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(
        file,
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(figures)
            + "\n");
  }
}

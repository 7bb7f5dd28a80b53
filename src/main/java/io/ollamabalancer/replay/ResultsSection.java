package io.ollamabalancer.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Replaces one marked section of a results file ({@code <!-- bench:NAME:start -->} … {@code <!-- bench:NAME:end -->})
 * and leaves every other byte alone; appends the section when the markers are missing and creates the file when it
 * does not exist. Stateless.
 */
public final class ResultsSection {
    private ResultsSection() {
    }

    public static String start(String name) {
        return "<!-- bench:" + name + ":start -->";
    }

    public static String end(String name) {
        return "<!-- bench:" + name + ":end -->";
    }

    /** {@code current} with section {@code name}'s content replaced by {@code body}. */
    public static String replace(String current, String name, String body) {
        String start = start(name);
        String end = end(name);
        String block = start + "\n" + body.strip() + "\n" + end;
        int s = current.indexOf(start);
        int e = s < 0 ? -1 : current.indexOf(end, s);
        if (s >= 0 && e >= 0) {
            return current.substring(0, s) + block + current.substring(e + end.length());
        }
        if (s >= 0 || current.contains(end)) {
            throw new IllegalArgumentException("section '" + name + "' has only one of its markers");
        }
        String sep = current.isEmpty() || current.endsWith("\n\n") ? "" : current.endsWith("\n") ? "\n" : "\n\n";
        return current + sep + block + "\n";
    }

    /** Rewrites section {@code name} of {@code file} (created with a title when absent). */
    public static void write(Path file, String name, String body) throws IOException {
        String current = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8)
                : "# Benchmark results\n\n";
        Files.writeString(file, replace(current, name, body), StandardCharsets.UTF_8);
    }
}

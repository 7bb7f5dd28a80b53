package io.ollamabalancer.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a {@code .env} file into a map, the dialect Docker Compose and dotenv tools share:
 * <ul>
 *   <li>{@code KEY=VALUE}, spaces around the key and {@code =} ignored, an optional {@code export } prefix;</li>
 *   <li>blank lines and lines starting with {@code #} are skipped; in an unquoted value, {@code #} after a space
 *       starts a comment ({@code pa#ss} keeps its {@code #});</li>
 *   <li>{@code 'single quotes'} keep the text literally; {@code "double quotes"} understand {@code \n \t \r \" \\};</li>
 *   <li>no {@code ${VAR}} expansion; a later line wins over an earlier one with the same key.</li>
 * </ul>
 * A line that is none of these is a {@link ConfigException} naming the file and line. Stateless and thread-safe.
 */
public final class EnvFile {
    private EnvFile() {
    }

    /** Reads {@code file}, named {@code shownName} in messages; an absent file is an empty map ({@code .env} is optional). */
    public static Map<String, String> loadIfPresent(Path file, String shownName) {
        if (!Files.exists(file)) {
            return Map.of();
        }
        if (Files.isDirectory(file)) {
            throw new ConfigException(shownName + ": is a directory, expected a KEY=VALUE file");
        }
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), shownName);
        } catch (IOException e) {
            throw new ConfigException(shownName + ": cannot read: " + e.getMessage());
        }
    }

    /** Parses the text of a {@code .env} file; {@code sourceName} prefixes error messages. */
    public static Map<String, String> parse(String text, String sourceName) {
        Map<String, String> out = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].endsWith("\r") ? lines[n].substring(0, lines[n].length() - 1) : lines[n];
            if (n == 0 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String where = sourceName + " line " + (n + 1);
            if (trimmed.startsWith("export ") || trimmed.startsWith("export\t")) {
                trimmed = trimmed.substring(7).strip();
            }
            int eq = trimmed.indexOf('=');
            if (eq < 0) {
                throw new ConfigException(where + ": expected KEY=VALUE, found \"" + abbreviate(trimmed) + "\"");
            }
            String key = trimmed.substring(0, eq).strip();
            if (!isValidKey(key)) {
                throw new ConfigException(where + ": invalid variable name \"" + abbreviate(key) + "\"");
            }
            out.put(key, value(trimmed.substring(eq + 1).strip(), where));
        }
        return Collections.unmodifiableMap(out);
    }

    private static String value(String raw, String where) {
        if (raw.isEmpty()) {
            return "";
        }
        char first = raw.charAt(0);
        if (first == '\'' || first == '"') {
            return quoted(raw, first, where);
        }
        for (int i = 1; i < raw.length(); i++) {
            if (raw.charAt(i) == '#' && Character.isWhitespace(raw.charAt(i - 1))) {
                return raw.substring(0, i).strip();
            }
        }
        return raw;
    }

    private static String quoted(String raw, char quote, String where) {
        StringBuilder sb = new StringBuilder(raw.length());
        int i = 1;
        while (i < raw.length()) {
            char c = raw.charAt(i);
            if (c == quote) {
                String rest = raw.substring(i + 1).strip();
                if (!rest.isEmpty() && !rest.startsWith("#")) {
                    throw new ConfigException(where + ": unexpected text after the closing quote: \""
                            + abbreviate(rest) + "\"");
                }
                return sb.toString();
            }
            if (c == '\\' && quote == '"' && i + 1 < raw.length()) {
                char e = raw.charAt(++i);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    default -> sb.append(e);
                }
            } else {
                sb.append(c);
            }
            i++;
        }
        throw new ConfigException(where + ": missing closing " + (quote == '"' ? "double" : "single") + " quote");
    }

    private static boolean isValidKey(String key) {
        if (key.isEmpty() || !(Character.isLetter(key.charAt(0)) || key.charAt(0) == '_')) {
            return false;
        }
        for (int i = 1; i < key.length(); i++) {
            char c = key.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '_' || c == '.')) {
                return false;
            }
        }
        return key.chars().allMatch(c -> c < 128);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}

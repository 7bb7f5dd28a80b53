package io.ollamabalancer.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a small JSON configuration file (backends, simulator fleets) into a {@link Node} tree with jackson-core's
 * streaming parser, so that callers can validate fields in any order and label messages with names found later.
 * {@code //} and {@code /* *}{@code /} comments are allowed; a field given twice in one object is an error.
 * Syntax errors become one-line {@link ConfigException}s with line and column:
 * {@code containers.config.json: invalid JSON at line 3, column 7: Unexpected character ...}.
 * Stateless and thread-safe.
 */
public final class ConfigJson {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();
    /** Jackson puts "[Source: ...; line: 1, column: 2]" inside some messages; the one-line form says it shorter. */
    private static final Pattern SOURCE_REF = Pattern.compile("\\s*\\[Source: [^\\]]*?line: (\\d+), column: (\\d+)\\]");

    /**
     * A JSON value: its token kind ({@code START_OBJECT}, {@code START_ARRAY} or a scalar), the text of a scalar,
     * the elements of an array and the fields of an object (in file order). Immutable.
     */
    public record Node(JsonToken kind, String text, List<Node> items, Map<String, Node> fields) {
        public boolean isNull() {
            return kind == JsonToken.VALUE_NULL;
        }

        public boolean isObject() {
            return kind == JsonToken.START_OBJECT;
        }

        public boolean isArray() {
            return kind == JsonToken.START_ARRAY;
        }

        public boolean isString() {
            return kind == JsonToken.VALUE_STRING;
        }

        public boolean isInteger() {
            return kind == JsonToken.VALUE_NUMBER_INT;
        }

        public boolean isNumber() {
            return kind == JsonToken.VALUE_NUMBER_INT || kind == JsonToken.VALUE_NUMBER_FLOAT;
        }

        public boolean isBoolean() {
            return kind == JsonToken.VALUE_TRUE || kind == JsonToken.VALUE_FALSE;
        }

        /** What it is, for a sentence: "a string", "a number", "an object". */
        public String describe() {
            return ConfigJson.describe(kind);
        }

        /** The value as it appears in the file for scalars ({@code 2.5}, {@code "yes"}), else {@link #describe()}. */
        public String shown() {
            return switch (kind) {
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE -> text;
                case VALUE_STRING -> "\"" + text + "\"";
                default -> describe();
            };
        }
    }

    private ConfigJson() {
    }

    /** Reads a file's bytes, turning the usual failures into one-line messages that start with {@code shownName}. */
    public static byte[] readFile(Path file, String shownName) {
        if (Files.isDirectory(file)) {
            throw new ConfigException(shownName + ": is a directory, expected a JSON file");
        }
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(shownName + ": file not found");
        } catch (AccessDeniedException e) {
            throw new ConfigException(shownName + ": permission denied");
        } catch (IOException e) {
            throw new ConfigException(shownName + ": cannot read: " + e.getMessage());
        }
    }

    /** Parses one JSON document; {@code null} if the input holds no value at all (empty or only comments). */
    public static Node parse(byte[] json, String fileName) {
        try (JsonParser p = FACTORY.createParser(json)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return null;
            }
            Node root = value(p);
            JsonToken after = p.nextToken();
            if (after != null) {
                throw new ConfigException(fileName + ": found " + describe(after) + " after the end of the document at "
                        + where(p.currentTokenLocation()));
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new ConfigException(fileName + ": invalid JSON at " + where(e.getLocation()) + ": "
                    + clean(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ConfigException(fileName + ": cannot read: " + e.getMessage());
        }
    }

    private static Node value(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_ARRAY) {
            List<Node> items = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                items.add(value(p));
            }
            return new Node(t, null, Collections.unmodifiableList(items), Map.of());
        }
        if (t == JsonToken.START_OBJECT) {
            Map<String, Node> fields = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                fields.put(name, value(p));
            }
            return new Node(t, null, List.of(), Collections.unmodifiableMap(fields));
        }
        return new Node(t, p.getText(), List.of(), Map.of());
    }

    /** How a token reads in a sentence: "a string", "a number", "an object". */
    static String describe(JsonToken t) {
        if (t == null) {
            return "nothing";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.asString() == null ? t.name().toLowerCase(Locale.ROOT) : "'" + t.asString() + "'";
        };
    }

    private static String where(JsonLocation loc) {
        return loc == null ? "an unknown position" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }

    private static String clean(String message) {
        Matcher m = SOURCE_REF.matcher(ConfigException.oneLine(message));
        return m.replaceAll(" (line $1, column $2)").strip();
    }
}

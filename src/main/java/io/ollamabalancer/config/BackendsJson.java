package io.ollamabalancer.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the shape of a backends file with jackson-core's streaming parser, without judging the values: a list of
 * backend entries, each a map from field name to {@link Raw} value. {@link BackendsFile} then validates them, when
 * a backend's name is known and can label every message. Accepts the plain array and the {@code {"backends":[...]}}
 * object; {@code //} and {@code /* *}{@code /} comments are allowed; a field given twice in one object is an error.
 * Syntax errors become a {@link ConfigException} with line and column. Not thread-safe; one instance per read.
 */
final class BackendsJson {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();
    /** Jackson puts "[Source: ...; line: 1, column: 2]" inside some messages; the one-line form says it shorter. */
    private static final Pattern SOURCE_REF = Pattern.compile("\\s*\\[Source: [^\\]]*?line: (\\d+), column: (\\d+)\\]");

    /** A JSON value as read: its token kind, its text for scalars, its elements for arrays. */
    record Raw(JsonToken kind, String text, List<Raw> items) {
        boolean isNull() {
            return kind == JsonToken.VALUE_NULL;
        }
    }

    /** One entry of the backends array, by position (1-based) in the file. */
    record Entry(int number, JsonToken kind, Map<String, Raw> fields) {
    }

    private final String fileName;
    private final List<String> warnings;

    BackendsJson(String fileName, List<String> warnings) {
        this.fileName = fileName;
        this.warnings = warnings;
    }

    List<Entry> read(byte[] json) {
        try (JsonParser p = FACTORY.createParser(json)) {
            List<Entry> entries = top(p);
            JsonToken after = p.nextToken();
            if (after != null) {
                throw new ConfigException(fileName + ": found " + describe(after) + " after the end of the backends at "
                        + where(p.currentTokenLocation()));
            }
            return entries;
        } catch (JsonProcessingException e) {
            throw new ConfigException(fileName + ": invalid JSON at " + where(e.getLocation()) + ": "
                    + clean(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ConfigException(fileName + ": cannot read: " + e.getMessage());
        }
    }

    private List<Entry> top(JsonParser p) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw new ConfigException(fileName + ": no backends defined (the file is empty)");
        }
        if (t == JsonToken.START_ARRAY) {
            return backends(p);
        }
        if (t != JsonToken.START_OBJECT) {
            throw new ConfigException(fileName + ": expected an array of backends or an object with a \"backends\""
                    + " array, found " + describe(t));
        }
        List<Entry> entries = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            if (field.equals("backends")) {
                if (v != JsonToken.START_ARRAY) {
                    throw new ConfigException(fileName + ": \"backends\" must be an array, found " + describe(v));
                }
                entries = backends(p);
            } else {
                warnings.add(fileName + ": unknown field \"" + field + "\" ignored");
                p.skipChildren();
            }
        }
        if (entries == null) {
            throw new ConfigException(fileName + ": no backends defined (expected a \"backends\" array)");
        }
        return entries;
    }

    private List<Entry> backends(JsonParser p) throws IOException {
        List<Entry> out = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            int number = out.size() + 1;
            if (t != JsonToken.START_OBJECT) {
                p.skipChildren();
                out.add(new Entry(number, t, Map.of()));
                continue;
            }
            Map<String, Raw> fields = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                fields.put(name, value(p));
            }
            out.add(new Entry(number, t, fields));
        }
        return out;
    }

    private static Raw value(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_ARRAY) {
            List<Raw> items = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                items.add(value(p));
            }
            return new Raw(t, null, items);
        }
        if (t == JsonToken.START_OBJECT) {
            p.skipChildren();
            return new Raw(t, null, List.of());
        }
        return new Raw(t, p.getText(), List.of());
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
            default -> t.asString() == null ? t.name().toLowerCase(java.util.Locale.ROOT) : "'" + t.asString() + "'";
        };
    }

    private static String where(JsonLocation loc) {
        return loc == null ? "an unknown position" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }

    private static String clean(String message) {
        String oneLine = ConfigException.oneLine(message);
        Matcher m = SOURCE_REF.matcher(oneLine);
        return m.replaceAll(" (line $1, column $2)").strip();
    }
}

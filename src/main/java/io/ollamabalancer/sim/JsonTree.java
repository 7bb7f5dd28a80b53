package io.ollamabalancer.sim;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a request body into plain Java values ({@code Map}, {@code List}, {@code String}, {@code Number},
 * {@code Boolean}, {@code null}) with jackson-core's streaming parser, failing with the texts Go's decoder would
 * produce. Like Go's {@code json.Decoder.Decode}, only the first value counts; trailing bytes are ignored, and
 * invalid UTF-8 becomes U+FFFD. Stateless.
 */
final class JsonTree {
    private static final Pattern UNEXPECTED_CHAR = Pattern.compile("Unexpected character \\('(.)'");
    private static final Pattern UNRECOGNIZED = Pattern.compile("Unrecognized token '(.)");

    private JsonTree() {
    }

    /**
     * Parses a body. An empty or blank body throws {@link BadRequestException#missingBody()}; malformed JSON throws
     * a {@link BadRequestException} with Go's message.
     */
    static Object parse(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        try (JsonParser p = JsonOut.FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw BadRequestException.missingBody();
            }
            return readValue(p, t);
        } catch (JsonParseException e) {
            throw new BadRequestException(goMessage(e));
        } catch (StreamReadException e) {
            throw new BadRequestException(goMessage(e));
        } catch (IOException e) {
            throw new BadRequestException("unexpected EOF");
        }
    }

    /** Parses a body that must be a JSON object (or null, which Go treats as "no fields"). */
    static Map<String, Object> parseObject(byte[] body, String goType) {
        Object v = parse(body);
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map)) {
            throw new BadRequestException("json: cannot unmarshal " + kind(v) + " into Go value of type " + goType);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    /** Go's name for the JSON kind of a parsed value, as used in unmarshal errors. */
    static String kind(Object v) {
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof Number) {
            return "number";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof List) {
            return "array";
        }
        if (v instanceof Map) {
            return "object";
        }
        return "null";
    }

    private static Object readValue(JsonParser p, JsonToken t) throws IOException {
        if (t == null) {
            throw new BadRequestException("unexpected EOF");
        }
        switch (t) {
            case START_OBJECT: {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    if (k == null) {
                        throw new BadRequestException("unexpected EOF");
                    }
                    String name = p.currentName();
                    m.put(name, readValue(p, p.nextToken()));
                }
                return m;
            }
            case START_ARRAY: {
                List<Object> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    if (e == null) {
                        throw new BadRequestException("unexpected EOF");
                    }
                    l.add(readValue(p, e));
                }
                return l;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberValue();
            case VALUE_NUMBER_FLOAT:
                return p.getDoubleValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new BadRequestException("unexpected EOF");
        }
    }

    /** Maps Jackson's parse error to the closest text Go's decoder gives for the same input. */
    private static String goMessage(StreamReadException e) {
        String msg = String.valueOf(e.getOriginalMessage());
        if (msg.contains("end-of-input") || msg.contains("EOF")) {
            return "unexpected EOF";
        }
        Matcher m = UNEXPECTED_CHAR.matcher(msg);
        String ch = m.find() ? m.group(1) : null;
        if (ch == null) {
            Matcher u = UNRECOGNIZED.matcher(msg);
            ch = u.find() ? u.group(1) : null;
        }
        if (ch == null) {
            return "invalid character looking for beginning of value";
        }
        String where;
        if (msg.contains("colon")) {
            where = "after object key";
        } else if (msg.contains("field name")) {
            where = "looking for beginning of object key string";
        } else if (msg.contains("Object entries")) {
            where = "after object key:value pair";
        } else if (msg.contains("Array entries")) {
            where = "after array element";
        } else {
            where = "looking for beginning of value";
        }
        return "invalid character " + quoteChar(ch.charAt(0)) + " " + where;
    }

    private static String quoteChar(char c) {
        if (c == '\'') {
            return "'\\''";
        }
        if (c == '"') {
            return "'\"'";
        }
        if (c < 0x20) {
            return String.format(Locale.ROOT, "'\\x%02x'", (int) c);
        }
        return "'" + c + "'";
    }
}

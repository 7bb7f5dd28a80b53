package io.ollamabalancer.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a backend's list answer ({@code {"models":[…]}} or {@code {"object":"list","data":[…]}}) into entries that
 * point at each element's original bytes, plus the few top-level fields of each element the merge needs. Keeping
 * the byte range instead of re-serialising means every model object reaches the client exactly as Ollama wrote
 * it: same escapes, same number spelling, same field order. Stateless and thread-safe.
 */
final class ModelListReader {
    static final JsonFactory FACTORY = new JsonFactoryBuilder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    private ModelListReader() {
    }

    /**
     * One element of the list: {@code source[start, end)} is its JSON object; {@code values[i]} is the text of
     * the top-level field {@code fields[i]} when it is a string or number, else {@code null}.
     */
    record Entry(byte[] source, int start, int end, String[] values) {
        String value(int i) {
            return values[i];
        }
    }

    /** Entries of {@code body.listField}; a missing or null list is empty. Non-object elements are dropped. */
    static List<Entry> read(byte[] body, String listField, String... fields) {
        List<Entry> entries = new ArrayList<>();
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedResponseException("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (name.equals(listField)) {
                    entries.clear(); // a repeated field replaces the earlier one, as a Go decoder would
                    if (t == JsonToken.START_ARRAY) {
                        readArray(p, body, fields, entries);
                    } else if (t != JsonToken.VALUE_NULL) {
                        throw new MalformedResponseException("\"" + listField + "\" is not an array");
                    }
                } else {
                    p.skipChildren();
                }
            }
            if (p.nextToken() != null) {
                throw new MalformedResponseException("data after the JSON object");
            }
        } catch (JsonProcessingException e) {
            throw new MalformedResponseException(e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("in-memory body cannot fail to read", e);
        }
        return entries;
    }

    /** The text of a top-level string field, {@code null} if absent or not a string. */
    static String topLevelString(byte[] body, String field) {
        String value = null;
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedResponseException("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (name.equals(field)) {
                    value = t == JsonToken.VALUE_STRING ? p.getText() : null;
                }
                p.skipChildren();
            }
            if (p.nextToken() != null) {
                throw new MalformedResponseException("data after the JSON object");
            }
        } catch (JsonProcessingException e) {
            throw new MalformedResponseException(e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("in-memory body cannot fail to read", e);
        }
        return value;
    }

    private static void readArray(JsonParser p, byte[] body, String[] fields, List<Entry> out) throws IOException {
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.START_OBJECT) {
                p.skipChildren();
                continue;
            }
            int start = (int) p.currentTokenLocation().getByteOffset();
            String[] values = new String[fields.length];
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                int i = indexOf(fields, name);
                if (i >= 0 && (v == JsonToken.VALUE_STRING || v.isNumeric())) {
                    values[i] = p.getText();
                }
                p.skipChildren();
            }
            int end = (int) p.currentLocation().getByteOffset();
            out.add(new Entry(body, start, end, values));
        }
    }

    private static int indexOf(String[] fields, String name) {
        for (int i = 0; i < fields.length; i++) {
            if (fields[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }
}

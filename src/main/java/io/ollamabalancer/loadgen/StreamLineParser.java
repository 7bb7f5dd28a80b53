package io.ollamabalancer.loadgen;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * Reads {@code created_at}, {@code done} and {@code error} from one NDJSON line with jackson-core's streaming
 * parser, skipping everything else ({@code response}, {@code message}, {@code context}...) without building it.
 * Stateless apart from the shared, thread-safe {@link JsonFactory}; thread-safe.
 */
public final class StreamLineParser {
    private static final JsonFactory JSON = new JsonFactory();

    private StreamLineParser() {
    }

    /**
     * @throws IllegalArgumentException if the line is not one JSON object or {@code created_at} is malformed
     */
    public static StreamLine parse(byte[] bytes, int offset, int length) {
        long createdAt = StreamLine.NO_TIME;
        boolean done = false;
        String error = null;
        try (JsonParser p = JSON.createParser(bytes, offset, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "created_at" -> {
                        if (value == JsonToken.VALUE_STRING) {
                            createdAt = Rfc3339.epochNanos(p.getText());
                        }
                    }
                    case "done" -> done = value == JsonToken.VALUE_TRUE;
                    case "error" -> error = value == JsonToken.VALUE_NULL ? null : p.getValueAsString("");
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new IllegalArgumentException("unterminated JSON object");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed JSON line: " + e.getMessage(), e);
        }
        return new StreamLine(createdAt, done, error);
    }
}

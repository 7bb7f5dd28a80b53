package io.ollamabalancer.fleetops;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.IOException;

/**
 * One line of an Ollama progress stream ({@code /api/pull}, {@code /api/create}: Go's {@code api.ProgressResponse}),
 * or its error line. Immutable; {@link #parse} is stateless and thread-safe.
 *
 * @param status    the {@code status} text, or null
 * @param digest    the layer's {@code digest} on a layer line, else null
 * @param total     the layer's size in bytes (0 when absent, as Go's {@code omitempty} leaves it)
 * @param completed the bytes of the layer downloaded so far (0 when absent)
 * @param error     the {@code error} text of an error line, else null
 */
public record ProgressLine(String status, String digest, long total, long completed, String error) {
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build();

    /** A line about one layer's download. */
    public boolean isLayer() {
        return digest != null && !digest.isEmpty();
    }

    /**
     * Reads one line; top-level fields other than these are skipped.
     *
     * @return the line, or null when it is not a JSON object
     */
    public static ProgressLine parse(byte[] bytes, int offset, int length) {
        String status = null;
        String digest = null;
        String error = null;
        long total = 0;
        long completed = 0;
        try (JsonParser p = JSON.createParser(bytes, offset, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                boolean text = t == JsonToken.VALUE_STRING;
                boolean number = t == JsonToken.VALUE_NUMBER_INT;
                switch (name) {
                    case "status" -> status = text ? p.getText() : status;
                    case "digest" -> digest = text ? p.getText() : digest;
                    // Ollama's error is a string; anything else still means the operation failed.
                    case "error" -> error = text ? p.getText() : "unreadable error";
                    case "total" -> total = number ? p.getLongValue() : total;
                    case "completed" -> completed = number ? p.getLongValue() : completed;
                    default -> {
                    }
                }
                p.skipChildren();
            }
        } catch (IOException malformed) {
            return null;
        }
        return new ProgressLine(status, digest, total, completed, error);
    }
}

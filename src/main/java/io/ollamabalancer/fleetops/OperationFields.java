package io.ollamabalancer.fleetops;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.IOException;
import java.util.Locale;

/**
 * The top-level fields a model operation's body carries that decide where it goes: the model ({@code model}, else
 * Ollama's legacy {@code name}), {@code stream}, copy's {@code source}, create's {@code from} and whether it names
 * {@code files} or {@code adapters}. Field names match case-insensitively, as Go's decoder matches them; a value of
 * another type is ignored (the backend answers for it). Immutable; {@link #read} is stateless and thread-safe.
 *
 * @param model    {@code model}, else {@code name}; empty when neither
 * @param stream   {@code stream}, true when absent or null (Ollama streams progress by default)
 * @param source   copy's {@code source}; empty when absent
 * @param from     create's {@code from}; empty when absent
 * @param hasBlobs whether create names {@code files} or {@code adapters} (then it goes where the blobs are)
 * @param readable false when the body is not a JSON object (the backend will say why)
 */
record OperationFields(String model, boolean stream, String source, String from, boolean hasBlobs,
                       boolean readable) {
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build();
    private static final OperationFields UNREADABLE = new OperationFields("", true, "", "", false, false);

    static OperationFields read(byte[] body) {
        String model = "";
        String name = "";
        String source = "";
        String from = "";
        boolean stream = true;
        boolean blobs = false;
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return UNREADABLE;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName().toLowerCase(Locale.ROOT);
                JsonToken t = p.nextToken();
                String text = t == JsonToken.VALUE_STRING ? p.getText() : null;
                switch (key) {
                    case "model" -> model = text != null ? text : model;
                    case "name" -> name = text != null ? text : name;
                    case "source" -> source = text != null ? text : source;
                    case "from" -> from = text != null ? text : from;
                    case "stream" -> stream = t != JsonToken.VALUE_FALSE;
                    case "files", "adapters" -> blobs |= t == JsonToken.START_OBJECT;
                    default -> {
                    }
                }
                p.skipChildren();
            }
        } catch (IOException malformed) {
            return UNREADABLE;
        }
        return new OperationFields(model.isEmpty() ? name : model, stream, source, from, blobs, true);
    }
}

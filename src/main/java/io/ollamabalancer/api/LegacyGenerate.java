package io.ollamabalancer.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * The replaced project's {@code POST /ollama/generate {"prompt","model"}}: a generate that always answers with one
 * JSON object. Its body is re-written once with {@code "stream":false}, every other field copied as sent.
 * Stateless.
 */
public final class LegacyGenerate {
    private static final JsonFactory JSON = new JsonFactory();

    private LegacyGenerate() {
    }

    /** The body to send to {@code /api/generate}; the input must be a JSON object (already validated). */
    public static byte[] rewrite(byte[] body, int offset, int length) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(length + 16);
        try (JsonParser p = JSON.createParser(body, offset, length);
             JsonGenerator g = JSON.createGenerator(out)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("request body must be a JSON object");
            }
            g.writeStartObject();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if ("stream".equals(name)) {
                    p.skipChildren();
                    continue;
                }
                g.writeFieldName(name);
                g.copyCurrentStructure(p);
            }
            g.writeBooleanField("stream", false);
            g.writeEndObject();
        }
        return out.toByteArray();
    }
}

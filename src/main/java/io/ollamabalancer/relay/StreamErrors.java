package io.ollamabalancer.relay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one line that ends a stream whose backend died after the status was sent, in the stream's own framing:
 * an NDJSON {@code {"error":"…"}} line (what Ollama itself writes, and what its clients raise on), or an SSE
 * {@code data:} event with OpenAI's error envelope. Stateless.
 */
final class StreamErrors {
    private static final JsonFactory JSON = new JsonFactory();

    private StreamErrors() {
    }

    static byte[] line(String contentType, String message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        boolean sse = contentType.startsWith("text/event-stream");
        try {
            if (sse) {
                out.write("data: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            try (JsonGenerator g = JSON.createGenerator(out)) {
                g.writeStartObject();
                if (sse) {
                    g.writeObjectFieldStart("error");
                    g.writeStringField("message", message);
                    g.writeStringField("type", "api_error");
                    g.writeNullField("param");
                    g.writeNullField("code");
                    g.writeEndObject();
                } else {
                    g.writeStringField("error", message);
                }
                g.writeEndObject();
            }
            out.write(sse ? "\n\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII) : new byte[] {'\n'});
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}

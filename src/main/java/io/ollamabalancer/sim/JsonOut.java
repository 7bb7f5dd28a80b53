package io.ollamabalancer.sim;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Renders JSON with jackson-core's streaming generator and Go's escaping ({@link GoEscapes}). Stateless; the shared
 * factory is thread-safe. The caller owns every returned {@link ByteBuf}.
 */
final class JsonOut {
    /** Writes one JSON value. */
    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(256 * 1024 * 1024).build())
            .build();

    private JsonOut() {
    }

    /** {@code prefix}, the JSON value and {@code suffix} (e.g. {@code "\n"} for NDJSON), in a new buffer. */
    static ByteBuf render(ByteBufAllocator alloc, String prefix, Body body, String suffix) {
        ByteBuf buf = alloc.buffer(256);
        boolean ok = false;
        try {
            renderInto(buf, prefix, body, suffix);
            ok = true;
            return buf;
        } finally {
            if (!ok) {
                buf.release();
            }
        }
    }

    /** Appends {@code prefix}, the JSON value and {@code suffix} to {@code buf}, which stays the caller's. */
    static void renderInto(ByteBuf buf, String prefix, Body body, String suffix) {
        if (!prefix.isEmpty()) {
            buf.writeCharSequence(prefix, StandardCharsets.UTF_8);
        }
        try (JsonGenerator g = FACTORY.createGenerator((OutputStream) new ByteBufOutputStream(buf))) {
            g.setCharacterEscapes(GoEscapes.INSTANCE);
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!suffix.isEmpty()) {
            buf.writeCharSequence(suffix, StandardCharsets.UTF_8);
        }
    }

    static ByteBuf render(ByteBufAllocator alloc, Body body) {
        return render(alloc, "", body, "");
    }

    static String toJsonString(Body body) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.setCharacterEscapes(GoEscapes.INSTANCE);
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** {@code {"error":"<message>"}}, Ollama's native error body. */
    static Body error(String message) {
        return g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        };
    }

    /** {@code {"error":{"message":…,"type":…,"param":null,"code":null}}}, the OpenAI envelope Ollama uses on /v1. */
    static Body openAiError(int status, String message) {
        String type = status == 400 ? "invalid_request_error" : status == 404 ? "not_found_error" : "api_error";
        return g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("error");
            g.writeStringField("message", message);
            g.writeStringField("type", type);
            g.writeNullField("param");
            g.writeNullField("code");
            g.writeEndObject();
            g.writeEndObject();
        };
    }

    /** Writes a float32 the way Go's encoding/json does. */
    static void writeFloat32(JsonGenerator g, float v) throws IOException {
        g.writeNumber(GoFormats.float32(v));
    }

    /** Writes a float64 the way Go's encoding/json does. */
    static void writeFloat64(JsonGenerator g, double v) throws IOException {
        g.writeNumber(GoFormats.float64(v));
    }
}

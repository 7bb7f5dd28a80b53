package io.ollamabalancer.sim;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.time.Instant;

/**
 * Ollama's native NDJSON for {@code /api/generate} ({@code response}, and {@code context} unless raw) and
 * {@code /api/chat} ({@code message}), keys in Go struct order and zero metrics omitted ({@code omitempty}).
 * Stateless apart from its settings.
 */
final class NativeFormat implements GenerationFormat {
    private final String model;
    private final boolean chat;

    NativeFormat(String model, boolean chat) {
        this.model = model;
        this.chat = chat;
    }

    @Override
    public String streamContentType() {
        return SimExchange.NDJSON;
    }

    @Override
    public ByteBuf token(ByteBufAllocator alloc, String piece, Instant now) {
        return JsonOut.render(alloc, "", g -> {
            head(g, now, piece);
            g.writeBooleanField("done", false);
            g.writeEndObject();
        }, "\n");
    }

    @Override
    public ByteBuf last(ByteBufAllocator alloc, GenerationOutcome o) {
        return JsonOut.render(alloc, "", g -> writeFinal(g, o, ""), "\n");
    }

    @Override
    public void replyWhole(SimExchange x, GenerationOutcome o) {
        x.replyJson(200, g -> writeFinal(g, o, o.text()));
    }

    @Override
    public ByteBuf midStreamError(ByteBufAllocator alloc, String message) {
        return JsonOut.render(alloc, "", JsonOut.error(message), "\n");
    }

    @Override
    public void replyError(SimExchange x, int status, String message) {
        x.replyError(status, message);
    }

    private void head(JsonGenerator g, Instant t, String text) throws IOException {
        g.writeStartObject();
        g.writeStringField("model", model);
        g.writeStringField("created_at", GoFormats.utc(t));
        if (chat) {
            g.writeObjectFieldStart("message");
            g.writeStringField("role", "assistant");
            g.writeStringField("content", text);
            g.writeEndObject();
        } else {
            g.writeStringField("response", text);
        }
    }

    private void writeFinal(JsonGenerator g, GenerationOutcome o, String text) throws IOException {
        head(g, o.createdAt(), text);
        g.writeBooleanField("done", true);
        g.writeStringField("done_reason", o.doneReason());
        if (!chat && o.context() != null && o.context().length > 0) {
            g.writeArrayFieldStart("context");
            for (int id : o.context()) {
                g.writeNumber(id);
            }
            g.writeEndArray();
        }
        nonZero(g, "total_duration", o.totalNanos());
        nonZero(g, "load_duration", o.loadNanos());
        nonZero(g, "prompt_eval_count", o.promptEvalCount());
        nonZero(g, "prompt_eval_duration", o.promptEvalNanos());
        nonZero(g, "eval_count", o.evalCount());
        nonZero(g, "eval_duration", o.evalNanos());
        g.writeEndObject();
    }

    private static void nonZero(JsonGenerator g, String name, long v) throws IOException {
        if (v != 0) {
            g.writeNumberField(name, v);
        }
    }
}

package io.ollamabalancer.sim;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * {@code /v1/completions}: SSE {@code text_completion} chunks (note {@code choices} before {@code model}, as Ollama's
 * struct has it; with {@code include_usage} every chunk carries a zeroed {@code usage}), the done chunk with the
 * finish reason, an optional usage-only chunk, then {@code data: [DONE]}; or one {@code text_completion} object.
 * Stateless apart from its settings.
 */
final class OpenAiCompletionFormat implements GenerationFormat {
    private final String model;
    private final String id;
    private final long created;
    private final boolean includeUsage;

    OpenAiCompletionFormat(String model, String id, long created, boolean includeUsage) {
        this.model = model;
        this.id = id;
        this.created = created;
        this.includeUsage = includeUsage;
    }

    @Override
    public String streamContentType() {
        return SimExchange.SSE;
    }

    @Override
    public ByteBuf token(ByteBufAllocator alloc, String piece, Instant now) {
        return OpenAiChatFormat.event(alloc, g -> chunk(g, piece, null, includeUsage));
    }

    @Override
    public ByteBuf last(ByteBufAllocator alloc, GenerationOutcome o) {
        ByteBuf out = alloc.buffer();
        boolean ok = false;
        try {
            JsonOut.renderInto(out, "data: ", g -> chunk(g, "", o.doneReason(), includeUsage),
                    "\n\n");
            if (includeUsage) {
                JsonOut.renderInto(out, "data: ", g -> {
                    g.writeStartObject();
                    g.writeStringField("id", id);
                    g.writeStringField("object", "text_completion");
                    g.writeNumberField("created", created);
                    g.writeArrayFieldStart("choices");
                    g.writeEndArray();
                    g.writeStringField("model", model);
                    g.writeStringField("system_fingerprint", "fp_ollama");
                    OpenAiChatFormat.usage(g, o);
                    g.writeEndObject();
                }, "\n\n");
            }
            out.writeCharSequence(OpenAiChatFormat.DONE, StandardCharsets.UTF_8);
            ok = true;
            return out;
        } finally {
            if (!ok) {
                out.release();
            }
        }
    }

    @Override
    public void replyWhole(SimExchange x, GenerationOutcome o) {
        x.reply(200, SimExchange.JSON, JsonOut.render(x.alloc(), "", g -> {
            g.writeStartObject();
            g.writeStringField("id", id);
            g.writeStringField("object", "text_completion");
            g.writeNumberField("created", o.createdAt().getEpochSecond());
            g.writeStringField("model", model);
            g.writeStringField("system_fingerprint", "fp_ollama");
            g.writeArrayFieldStart("choices");
            choice(g, o.text(), o.doneReason());
            g.writeEndArray();
            OpenAiChatFormat.usage(g, o);
            g.writeEndObject();
        }, "\n"));
    }

    @Override
    public ByteBuf midStreamError(ByteBufAllocator alloc, String message) {
        return OpenAiChatFormat.event(alloc, g -> chunk(g, "", null, includeUsage));
    }

    @Override
    public void replyError(SimExchange x, int status, String message) {
        x.replyOpenAiError(status, message, false);
    }

    private void chunk(JsonGenerator g, String text, String finishReason, boolean zeroUsage)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("id", id);
        g.writeStringField("object", "text_completion");
        g.writeNumberField("created", created);
        g.writeArrayFieldStart("choices");
        choice(g, text, finishReason);
        g.writeEndArray();
        g.writeStringField("model", model);
        g.writeStringField("system_fingerprint", "fp_ollama");
        if (zeroUsage) {
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", 0);
            g.writeNumberField("completion_tokens", 0);
            g.writeNumberField("total_tokens", 0);
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    private static void choice(JsonGenerator g, String text, String finishReason) throws IOException {
        g.writeStartObject();
        g.writeStringField("text", text);
        g.writeNumberField("index", 0);
        if (finishReason == null) {
            g.writeNullField("finish_reason");
        } else {
            g.writeStringField("finish_reason", finishReason);
        }
        g.writeEndObject();
    }
}

package io.ollamabalancer.sim;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * {@code /v1/chat/completions} in the v0.32.6+ form: SSE {@code data: {…}\n\n} chunks whose first delta carries the
 * role, a separate {@code {"delta":{},"finish_reason":…}} chunk, an optional usage chunk, then {@code data: [DONE]};
 * or one {@code chat.completion} object. Every chunk shares the request's {@code created}. One instance per request.
 */
final class OpenAiChatFormat implements GenerationFormat {
    static final String DONE = "data: [DONE]\n\n";

    private final String model;
    private final String id;
    private final long created;
    private final boolean includeUsage;
    private boolean roleSent;

    OpenAiChatFormat(String model, String id, long created, boolean includeUsage) {
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
        boolean first = !roleSent;
        roleSent = true;
        return event(alloc, g -> chunk(g, first, piece, null));
    }

    @Override
    public ByteBuf last(ByteBufAllocator alloc, GenerationOutcome o) {
        ByteBuf out = alloc.buffer();
        boolean ok = false;
        try {
            if (!roleSent) {
                roleSent = true;
                JsonOut.renderInto(out, "data: ", g -> chunk(g, true, "", null), "\n\n");
            }
            JsonOut.renderInto(out, "data: ", g -> chunk(g, false, null, o.doneReason()), "\n\n");
            if (includeUsage) {
                JsonOut.renderInto(out, "data: ", g -> {
                    start(g, "chat.completion.chunk", created);
                    g.writeArrayFieldStart("choices");
                    g.writeEndArray();
                    usage(g, o);
                    g.writeEndObject();
                }, "\n\n");
            }
            out.writeCharSequence(DONE, StandardCharsets.UTF_8);
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
            start(g, "chat.completion", o.createdAt().getEpochSecond());
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeNumberField("index", 0);
            g.writeObjectFieldStart("message");
            g.writeStringField("role", "assistant");
            g.writeStringField("content", o.text());
            g.writeEndObject();
            g.writeStringField("finish_reason", o.doneReason());
            g.writeEndObject();
            g.writeEndArray();
            usage(g, o);
            g.writeEndObject();
        }, "\n"));
    }

    @Override
    public ByteBuf midStreamError(ByteBufAllocator alloc, String message) {
        // The middleware decodes the error line as an empty response: one more empty chunk, no finish, no [DONE].
        return event(alloc, g -> chunk(g, false, null, null));
    }

    @Override
    public void replyError(SimExchange x, int status, String message) {
        x.replyOpenAiError(status, message, false);
    }

    private void chunk(JsonGenerator g, boolean withRole, String content, String finishReason) throws IOException {
        start(g, "chat.completion.chunk", created);
        g.writeArrayFieldStart("choices");
        g.writeStartObject();
        g.writeNumberField("index", 0);
        g.writeObjectFieldStart("delta");
        if (withRole) {
            g.writeStringField("role", "assistant");
        }
        if (content != null) {
            g.writeStringField("content", content);
        }
        g.writeEndObject();
        if (finishReason == null) {
            g.writeNullField("finish_reason");
        } else {
            g.writeStringField("finish_reason", finishReason);
        }
        g.writeEndObject();
        g.writeEndArray();
        g.writeEndObject();
    }

    private void start(JsonGenerator g, String object, long createdAt) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", id);
        g.writeStringField("object", object);
        g.writeNumberField("created", createdAt);
        g.writeStringField("model", model);
        g.writeStringField("system_fingerprint", "fp_ollama");
    }

    static void usage(JsonGenerator g, GenerationOutcome o) throws IOException {
        g.writeObjectFieldStart("usage");
        g.writeNumberField("prompt_tokens", o.promptEvalCount());
        g.writeNumberField("completion_tokens", o.evalCount());
        g.writeNumberField("total_tokens", o.promptEvalCount() + o.evalCount());
        g.writeEndObject();
    }

    static ByteBuf event(ByteBufAllocator alloc, JsonOut.Body body) {
        return JsonOut.render(alloc, "data: ", body, "\n\n");
    }
}

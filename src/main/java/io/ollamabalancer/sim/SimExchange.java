package io.ollamabalancer.sim;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.Date;

/**
 * One request/response on a connection: the request, the ways to answer it, and the bookkeeping (counters, "done",
 * cancellation) every answer shares. A long-running answer registers an {@link Active} to hear about a client that
 * leaves or a channel that becomes writable again. Confined to the channel's event loop.
 */
final class SimExchange {
    static final String JSON_UTF8 = "application/json; charset=utf-8";
    static final String JSON = "application/json";
    static final String NDJSON = "application/x-ndjson";
    static final String SSE = "text/event-stream";

    // Canonical spelling, as Go's net/http writes header names (Netty's constants are lower-case).
    static final String CONTENT_TYPE = "Content-Type";
    static final String CONTENT_LENGTH = "Content-Length";
    static final String DATE = "Date";
    static final String TRANSFER_ENCODING = "Transfer-Encoding";

    /** Callbacks of an answer still in progress. */
    interface Active {
        /** The client disconnected: stop at once, free what is held, and call {@link #cancelled()}. */
        void cancel();

        /** The channel's writability changed; a paused stream may continue. */
        default void writabilityChanged() {
        }
    }

    private final ChannelHandlerContext ctx;
    private final SimRequest request;
    private final SimContext sim;
    private final Runnable onDone;
    private boolean counted;
    private boolean done;
    private Active active;
    private HttpHeaders extraHeaders;

    SimExchange(ChannelHandlerContext ctx, SimRequest request, SimContext sim, Runnable onDone) {
        this.ctx = ctx;
        this.request = request;
        this.sim = sim;
        this.onDone = onDone;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    SimRequest request() {
        return request;
    }

    SimContext sim() {
        return sim;
    }

    ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    /** Count this exchange's outcome in {@link SimCounters} (everything except {@code /sim/} control calls). */
    void counted() {
        counted = true;
    }

    boolean done() {
        return done;
    }

    void active(Active a) {
        active = a;
    }

    /** The client went away; forwards to the running answer, if any. */
    void clientGone() {
        if (!done && active != null) {
            active.cancel();
        }
    }

    void writabilityChanged() {
        if (!done && active != null) {
            active.writabilityChanged();
        }
    }

    /** Adds a header to the complete response this exchange will send. */
    void header(CharSequence name, String value) {
        if (extraHeaders == null) {
            extraHeaders = new DefaultHttpHeaders();
        }
        extraHeaders.add(name, value);
    }

    /** A complete response. Takes ownership of {@code body}; for HEAD only its length is sent. */
    void reply(int status, CharSequence contentType, ByteBuf body) {
        if (done) {
            body.release();
            return;
        }
        int length = body.readableBytes();
        ByteBuf content = body;
        if (request.isHead()) {
            body.release();
            content = Unpooled.EMPTY_BUFFER;
        }
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                content);
        if (contentType != null) {
            res.headers().set(CONTENT_TYPE, contentType);
        }
        if (extraHeaders != null) {
            res.headers().add(extraHeaders);
        }
        res.headers().set(DATE, DateFormatter.format(new Date()));
        res.headers().setInt(CONTENT_LENGTH, length);
        // Counted before the bytes leave, so a client that has read the answer sees the counters include it.
        count(status);
        ctx.writeAndFlush(res, ctx.voidPromise());
        markDone();
    }

    /** A {@code c.JSON}-style answer: {@code application/json; charset=utf-8}, no trailing newline. */
    void replyJson(int status, JsonOut.Body body) {
        reply(status, JSON_UTF8, JsonOut.render(alloc(), body));
    }

    /** Ollama's native error: {@code {"error":"…"}}. */
    void replyError(int status, String message) {
        replyJson(status, JsonOut.error(message));
    }

    /**
     * An OpenAI-envelope error. Errors the /v1 middleware raises itself go out through gin's {@code c.JSON}
     * ({@code fromMiddleware}); errors of the native handler are re-encoded by its writer as plain
     * {@code application/json} with a trailing newline.
     */
    void replyOpenAiError(int status, String message, boolean fromMiddleware) {
        if (fromMiddleware) {
            replyJson(status, JsonOut.openAiError(status, message));
        } else {
            reply(status, JSON, JsonOut.render(alloc(), "", JsonOut.openAiError(status, message), "\n"));
        }
    }

    void replyText(int status, String contentType, String text) {
        reply(status, contentType, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    void replyEmpty(int status) {
        reply(status, null, Unpooled.EMPTY_BUFFER);
    }

    /** A chunked 200 whose head goes out with the first chunk. */
    StreamWriter stream(CharSequence contentType) {
        return new StreamWriter(ctx, contentType);
    }

    /** Ends a stream successfully with {@code last} (its final chunk(s); ownership passes). */
    void endStream(StreamWriter out, ByteBuf last) {
        if (done) {
            last.release();
            return;
        }
        count(200);
        out.end(last);
        markDone();
    }

    /**
     * Ends a stream with an error line instead of its final chunk (an injected fault, counted as a crash); takes
     * ownership of {@code errorLine}.
     */
    void failStream(StreamWriter out, ByteBuf errorLine) {
        if (done) {
            errorLine.release();
            return;
        }
        if (counted) {
            sim.counters().onCrash();
        }
        out.end(errorLine);
        markDone();
    }

    /** The answer stopped because the client left; nothing more is written. */
    void cancelled() {
        if (done) {
            return;
        }
        if (counted) {
            sim.counters().onCancelled();
        }
        markDone();
    }

    /** A crash fault: the connection is cut without finishing the response. */
    void crash() {
        if (done) {
            return;
        }
        if (counted) {
            sim.counters().onCrash();
        }
        ctx.channel().close();
        markDone();
    }

    private void count(int status) {
        if (counted) {
            sim.counters().onStatus(status);
        }
    }

    private void markDone() {
        done = true;
        onDone.run();
    }
}

package io.ollamabalancer.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.api.ErrorBodies;
import io.ollamabalancer.api.OpenAiErrorCode;

/**
 * Writes complete responses the balancer answers itself (errors, aggregates, its own endpoints). Stateless.
 * Each call allocates the response buffer and passes its ownership to the channel.
 */
public final class Responses {
    public static final String JSON = "application/json; charset=utf-8";
    public static final String TEXT = "text/plain; charset=utf-8";

    private Responses() {
    }

    /** Sends {@code body} with the given status and content type; {@code head} sends the headers only. */
    public static ChannelFuture send(ChannelHandlerContext ctx, int status, String contentType, byte[] body,
                                     boolean head) {
        return ctx.writeAndFlush(full(status, contentType, head ? null : body, body.length));
    }

    /** An error in the endpoint's shape (Ollama's {@code {"error":…}} or OpenAI's envelope). */
    public static ChannelFuture error(ChannelHandlerContext ctx, Endpoint endpoint, int status, String message,
                                      long retryAfterSeconds) {
        return ctx.writeAndFlush(errorResponse(endpoint, status, message, retryAfterSeconds, null));
    }

    /** A refusal OpenAI's API makes too (a rate limit): on {@code /v1} its envelope carries OpenAI's type and code. */
    public static ChannelFuture refusal(ChannelHandlerContext ctx, Endpoint endpoint, int status, String message,
                                        long retryAfterSeconds, OpenAiErrorCode known) {
        return ctx.writeAndFlush(errorResponse(endpoint, status, message, retryAfterSeconds, known));
    }

    /** A 401 in the endpoint's shape, with {@code WWW-Authenticate: Bearer} (RFC 6750). */
    public static ChannelFuture unauthorized(ChannelHandlerContext ctx, Endpoint endpoint, String message) {
        FullHttpResponse r = errorResponse(endpoint, 401, message, 0, OpenAiErrorCode.INVALID_API_KEY);
        r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        return ctx.writeAndFlush(r);
    }

    private static FullHttpResponse errorResponse(Endpoint endpoint, int status, String message,
                                                  long retryAfterSeconds, OpenAiErrorCode known) {
        byte[] body = ErrorBodies.forEndpoint(endpoint, status, message, known);
        FullHttpResponse r = full(status, JSON, body, body.length);
        if (retryAfterSeconds > 0) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(retryAfterSeconds));
        }
        return r;
    }

    /**
     * Set on a client channel whose next close comes while the client may still be sending a body: the server's
     * lingering close then lets the client read the answer instead of a reset.
     */
    public static final io.netty.util.AttributeKey<Boolean> LINGER_ON_CLOSE =
            io.netty.util.AttributeKey.valueOf("ollama-balancer.linger-on-close");

    /** Answers with an error and closes, gently (the client may still be sending its body). */
    public static void errorAndClose(ChannelHandlerContext ctx, int status, String message) {
        errorAndClose(ctx, status, message, 0);
    }

    /** Like {@link #errorAndClose(ChannelHandlerContext, int, String)}, with {@code Retry-After} when positive. */
    public static void errorAndClose(ChannelHandlerContext ctx, int status, String message, long retryAfterSeconds) {
        ctx.channel().attr(LINGER_ON_CLOSE).set(Boolean.TRUE);
        byte[] body = ErrorBodies.ollama(message);
        FullHttpResponse r = full(status, JSON, body, body.length);
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (retryAfterSeconds > 0) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(retryAfterSeconds));
        }
        ctx.writeAndFlush(r).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }

    /** A complete response; {@code body} null sends no bytes but keeps {@code length} (a HEAD answer). */
    private static FullHttpResponse full(int status, String contentType, byte[] body, int length) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        return r;
    }
}

package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ollamabalancer.relay.Responses;

/**
 * Collects a request's body up to a limit; past it, answers 413 with an Ollama-style {@code {"error":…}} body
 * (Netty's default sends an empty one) and closes, since the rest of the body cannot be skipped cheaply.
 * One instance per channel.
 *
 * <p>Buffers: owns the body parts it accumulates until it emits one {@code FullHttpRequest} downstream.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
    private final long limit;

    BodyLimitAggregator(long maxBodyBytes) {
        super((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes), true);
        this.limit = maxBodyBytes;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        Responses.errorAndClose(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code(),
                "request body too large: the limit is " + limit + " bytes");
    }
}

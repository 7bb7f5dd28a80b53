package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ollamabalancer.api.RouteTable;
import io.ollamabalancer.relay.Responses;

/**
 * Collects a request's body up to a limit; past it, answers 413 with an Ollama-style {@code {"error":…}} body
 * (Netty's default sends an empty one) and closes, since the rest of the body cannot be skipped cheaply.
 * Requests on a route whose body streams ({@link io.ollamabalancer.api.Endpoint#streamsBody()}, the blob uploads)
 * are not collected: their head and body parts pass through untouched, with no limit, and
 * {@code Expect: 100-continue} is left to whoever takes them. One instance per channel.
 *
 * <p>Buffers: owns the body parts it accumulates until it emits one {@code FullHttpRequest} downstream; parts of a
 * streamed request pass on with their ownership.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
    private final long limit;

    BodyLimitAggregator(long maxBodyBytes) {
        super((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes), true);
        this.limit = maxBodyBytes;
    }

    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        // Not aggregating a streamed request's head means its content parts are not taken either: the aggregator
        // only takes content while it is collecting a message.
        return !isStreamedHead(msg) && super.acceptInboundMessage(msg);
    }

    private static boolean isStreamedHead(Object msg) {
        return msg instanceof HttpRequest req && !(msg instanceof FullHttpRequest)
                && req.decoderResult().isSuccess()
                && RouteTable.match(req.method().name(), req.uri()).endpoint().streamsBody();
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        Responses.errorAndClose(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code(),
                "request body too large: the limit is " + limit + " bytes");
    }
}

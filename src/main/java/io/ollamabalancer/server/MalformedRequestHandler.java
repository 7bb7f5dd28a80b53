package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;

/**
 * Replaces a request whose head the codec could not decode, instead of letting the codec's placeholder
 * ({@code GET /bad-request}) travel on as if it were a request, with a {@link RefusedRequest} that the request
 * handler answers in its turn: 431 when its headers are over {@code --max-header}, 414 when its request line is too
 * long, 400 otherwise, each with an {@code {"error":…}} body, and a close (the codec discards everything after a
 * bad head). Heads that decoded pass through, as do body parts (a broken body is the
 * business of whoever takes the request). Stateless apart from the limit it names; one instance per channel.
 *
 * <p>Buffers: releases the refused request; passes everything else on with its ownership.
 */
final class MalformedRequestHandler extends ChannelInboundHandlerAdapter {
    private final int maxHeaderBytes;

    MalformedRequestHandler(int maxHeaderBytes) {
        this.maxHeaderBytes = maxHeaderBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest req) || req.decoderResult().isSuccess()) {
            ctx.fireChannelRead(msg);
            return;
        }
        Throwable cause = req.decoderResult().cause();
        ReferenceCountUtil.release(msg);
        // Not answered here: a request pipelined before it may still be in flight, and answers go out in order.
        if (cause instanceof TooLongHttpHeaderException) {
            ctx.fireChannelRead(new RefusedRequest(431, "request header fields too large: the limit is "
                    + maxHeaderBytes + " bytes"));
        } else if (cause instanceof TooLongHttpLineException) {
            ctx.fireChannelRead(new RefusedRequest(414, "request line too long"));
        } else {
            ctx.fireChannelRead(new RefusedRequest(400, "malformed request: " + cause.getMessage()));
        }
    }
}

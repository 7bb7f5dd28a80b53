package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.api.ErrorBodies;

/**
 * Replaces a request the balancer will not read as one with a {@link RefusedRequest} that the request handler
 * answers in its turn, instead of letting it travel on:
 * <ul>
 *   <li>a head the codec could not decode (instead of the codec's placeholder {@code GET /bad-request}): 431 when
 *   its headers are over {@code --max-header}, 414 when its request line is too long, 400 otherwise, each with an
 *   {@code {"error":…}} body, and a close (the codec discards everything after a bad head);</li>
 *   <li>a request meant for a forward proxy, which must never be forwarded to a backend: {@code CONNECT} gets 405,
 *   an absolute-form target ({@code GET http://other/ HTTP/1.1}) 400; the connection stays open and the request's
 *   body parts are dropped here.</li>
 * </ul>
 * Other heads pass through, as do body parts (a broken body is the business of whoever collects it).
 * One instance per channel; event-loop confined.
 *
 * <p>Buffers: releases the refused request and the body parts it drops; passes everything else on with its
 * ownership.
 */
final class MalformedRequestHandler extends ChannelInboundHandlerAdapter {
    private final int maxHeaderBytes;
    /** Dropping the body parts of a refused proxy-style request, up to its last part. */
    private boolean dropping;

    MalformedRequestHandler(int maxHeaderBytes) {
        this.maxHeaderBytes = maxHeaderBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (dropping && msg instanceof HttpContent) {
            dropping = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpRequest req)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!req.decoderResult().isSuccess()) {
            Throwable cause = req.decoderResult().cause();
            ReferenceCountUtil.release(msg);
            // Not answered here: a request pipelined before it may still be in flight, and answers go out in order.
            if (cause instanceof TooLongHttpHeaderException) {
                ctx.fireChannelRead(RefusedRequest.closing(431, "request header fields too large: the limit is "
                        + maxHeaderBytes + " bytes", null));
            } else if (cause instanceof TooLongHttpLineException) {
                ctx.fireChannelRead(RefusedRequest.closing(414, "request line too long", null));
            } else {
                ctx.fireChannelRead(RefusedRequest.closing(400, "malformed request: " + cause.getMessage(), null));
            }
            return;
        }
        RefusedRequest proxyStyle = proxyStyle(req);
        if (proxyStyle == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        dropping = !(msg instanceof LastHttpContent);
        ReferenceCountUtil.release(msg);
        ctx.fireChannelRead(proxyStyle);
    }

    /** The refusal of a request addressed to a forward proxy, or {@code null} for an ordinary one. */
    private static RefusedRequest proxyStyle(HttpRequest req) {
        if (req.method().equals(HttpMethod.CONNECT)) {
            return RefusedRequest.keeping(405, ErrorBodies.METHOD_NOT_ALLOWED, null);
        }
        String uri = req.uri();
        boolean originForm = uri.startsWith("/") || uri.equals("*") && req.method().equals(HttpMethod.OPTIONS);
        return originForm ? null : RefusedRequest.keeping(400,
                "malformed request: the target must be a path (this is not a forward proxy)", null);
    }
}

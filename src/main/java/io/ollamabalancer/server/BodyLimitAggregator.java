package io.ollamabalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.api.RouteTable;

/**
 * Collects a request's body into one buffer, up to {@code --max-body} and within the process-wide
 * {@link BodyBudget}, and emits an {@link AggregatedRequest}. What it refuses goes down as a {@link RefusedRequest}
 * (answered in its turn, then the connection closes, gently, and nothing more of the body is collected):
 * <ul>
 *   <li>413 as soon as the body is known to pass the limit: at the head for a declared {@code Content-Length}, at the
 *   chunk that crosses it for a chunked body;</li>
 *   <li>503 with {@code Retry-After} when the body does not fit in the budget (reserved once for a declared length,
 *   at each doubling of the buffer for a chunked one);</li>
 *   <li>400 when the body's framing is broken (an invalid chunk size): the codec reads nothing after it.</li>
 * </ul>
 * Each part is copied into a buffer that doubles as needed, so a body of many small chunks neither pins the
 * decoder's read buffers nor is re-copied at every thousand parts, as a composite buffer would be.
 *
 * <p>Requests on a route whose body streams ({@link io.ollamabalancer.api.Endpoint#streamsBody()}, the blob uploads)
 * are not collected: their head and body parts pass through untouched, with no limit, and
 * {@code Expect: 100-continue} is left to whoever takes them. For the others, {@code 100 Continue} is sent only
 * when no answer is being written on the connection (an interim answer cannot go in the middle of another).
 * One instance per channel; event-loop confined.
 *
 * <p>Buffers: releases each part it copied or dropped; owns the collecting buffer until it emits it inside the
 * {@link AggregatedRequest} (whose budget share {@link ClientRequestHandler} gives back); parts of a streamed
 * request pass on with their ownership.
 */
final class BodyLimitAggregator extends ChannelInboundHandlerAdapter {
    private static final int FIRST_CAPACITY = 8 * 1024;
    /** How long a client refused for want of budget should wait, in seconds. */
    static final int BUDGET_RETRY_AFTER_SECONDS = 1;

    private enum State { IDLE, COLLECTING, PASSING, DROPPING }

    private final long limit;
    private final BodyBudget budget;
    private State state = State.IDLE;
    private HttpRequest head;
    /** The route of the request being collected, matched once at its head and handed on with it. */
    private RouteTable.Route route;
    private ByteBuf body;
    /** Budget bytes held for the body being collected. */
    private long reserved;
    /** Most the body may grow to: its declared length, else the limit. */
    private long cap;

    BodyLimitAggregator(long maxBodyBytes, BodyBudget budget) {
        // One buffer holds the body, so the limit cannot pass what a buffer can index.
        this.limit = Math.min(maxBodyBytes, Integer.MAX_VALUE - 8);
        this.budget = budget;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest) {
            // A refusal made upstream (a missed read deadline) replaces the request being collected.
            abandon();
            ctx.fireChannelRead(msg);
        } else if (msg instanceof HttpRequest req) {
            abandon();
            RouteTable.Route r = RouteTable.match(req.method().name(), req.uri());
            if (r.endpoint().streamsBody()) {
                state = State.PASSING;
                ctx.fireChannelRead(msg);
            } else {
                begin(ctx, req, r);
            }
        } else if (msg instanceof HttpContent part) {
            switch (state) {
                case PASSING -> {
                    if (part instanceof LastHttpContent) {
                        state = State.IDLE;
                    }
                    ctx.fireChannelRead(part);
                }
                case COLLECTING -> collect(ctx, part);
                default -> {
                    if (part instanceof LastHttpContent) {
                        state = State.IDLE;
                    }
                    part.release();
                }
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void begin(ChannelHandlerContext ctx, HttpRequest req, RouteTable.Route r) {
        long declared = HttpUtil.getContentLength(req, -1L);
        if (declared > limit) {
            refuse(ctx, RefusedRequest.closing(413, tooLarge(), req), req);
            return;
        }
        if (declared > 0 && !budget.tryReserve(declared)) {
            refuse(ctx, overBudget(req), req);
            return;
        }
        reserved = Math.max(declared, 0);
        cap = declared >= 0 ? declared : limit;
        head = req;
        route = r;
        state = State.COLLECTING;
        if (HttpUtil.is100ContinueExpected(req)) {
            req.headers().remove(HttpHeaderNames.EXPECT);
            if (!Boolean.TRUE.equals(ctx.channel().attr(ClientRequestHandler.BUSY).get())) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                        Unpooled.EMPTY_BUFFER));
            }
        }
    }

    private void collect(ChannelHandlerContext ctx, HttpContent part) {
        try {
            if (!part.decoderResult().isSuccess()) {
                // The codec discards everything after a broken frame: the connection cannot go on.
                refuseMidBody(ctx, RefusedRequest.closing(400, "malformed request body: "
                        + part.decoderResult().cause().getMessage(), head), part);
                return;
            }
            ByteBuf data = part.content();
            int n = data.readableBytes();
            if (n > 0) {
                long size = body == null ? 0 : body.readableBytes();
                if (size + n > cap) {
                    refuseMidBody(ctx, RefusedRequest.closing(413, tooLarge(), head), part);
                    return;
                }
                if (!ensureRoom(ctx, size + n)) {
                    refuseMidBody(ctx, overBudget(head), part);
                    return;
                }
                body.writeBytes(data);
            }
            if (part instanceof LastHttpContent last) {
                finish(ctx, last);
            }
        } finally {
            part.release();
        }
    }

    /** Grows the buffer (doubling, up to the cap) so it holds {@code needed} bytes; false when the budget refuses. */
    private boolean ensureRoom(ChannelHandlerContext ctx, long needed) {
        int capacity = body == null ? 0 : body.capacity();
        if (needed <= capacity) {
            return true;
        }
        long next = Math.min(cap, Math.max(needed, Math.max(FIRST_CAPACITY, 2L * capacity)));
        if (next > reserved && !budget.tryReserve(next - reserved)) {
            return false;
        }
        reserved = Math.max(reserved, next);
        if (body == null) {
            body = ctx.alloc().buffer((int) next, (int) cap);
        } else {
            body.capacity((int) next);
        }
        return true;
    }

    private void finish(ChannelHandlerContext ctx, LastHttpContent last) {
        ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : body;
        HttpRequest req = head;
        AggregatedRequest full = new AggregatedRequest(req, content, route, budget, reserved);
        // Header edits only where they change something: each is a removal and a validated insertion, and most
        // bodies came with a Content-Length that is already right.
        if (!last.trailingHeaders().isEmpty()) {
            full.trailingHeaders().set(last.trailingHeaders());
        }
        if (full.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            HttpUtil.setTransferEncodingChunked(full, false);
        }
        if (HttpUtil.getContentLength(full, -1L) != content.readableBytes()) {
            full.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        }
        body = null;
        head = null;
        route = null;
        reserved = 0;
        state = State.IDLE;
        ctx.fireChannelRead(full);
    }

    /** Fires the refusal in the request's place and drops its remaining parts (unless {@code req} had none). */
    private void refuse(ChannelHandlerContext ctx, RefusedRequest refusal, HttpRequest req) {
        state = req instanceof LastHttpContent ? State.IDLE : State.DROPPING;
        ReferenceCountUtil.release(req);
        ctx.fireChannelRead(refusal);
    }

    /** Drops the body collected so far and fires the refusal in its place; later parts are dropped. */
    private void refuseMidBody(ChannelHandlerContext ctx, RefusedRequest refusal, HttpContent part) {
        abandon();
        state = part instanceof LastHttpContent ? State.IDLE : State.DROPPING;
        ctx.fireChannelRead(refusal);
    }

    private String tooLarge() {
        return "request body too large: the limit is " + limit + " bytes";
    }

    private RefusedRequest overBudget(HttpRequest req) {
        RefusedRequest r = RefusedRequest.closing(503, "server busy, please try again.  request bodies held in "
                + "memory are at --max-inflight-body-bytes (" + budget.limit() + " bytes)", req);
        r.answerHeaders().setInt(HttpHeaderNames.RETRY_AFTER, BUDGET_RETRY_AFTER_SECONDS);
        return r;
    }

    /** Drops the body being collected, if any, and gives its budget back. */
    private void abandon() {
        if (body != null) {
            body.release();
            body = null;
        }
        if (reserved > 0) {
            budget.release(reserved);
            reserved = 0;
        }
        head = null;
        route = null;
        state = State.IDLE;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        abandon();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        abandon();
    }
}

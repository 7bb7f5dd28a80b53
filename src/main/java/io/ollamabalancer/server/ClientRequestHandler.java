package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.relay.ClientExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * The last handler of a client connection: runs its requests one at a time, in order, through the
 * {@link RequestRouter}, and tells the exchange in progress when the client drains or leaves.
 *
 * <p>Reading stays on while a request runs so that a client that disconnects is noticed at once (that is how a
 * queued request is withdrawn and a generation stopped). A pipelined request that arrives meanwhile is held, and
 * reading pauses until the current one ends. One instance per channel; event-loop confined.
 *
 * <p>Buffers: receives {@link FullHttpRequest}s and passes each to the router (which takes ownership); held
 * pipelined requests are released if the connection closes first.
 */
final class ClientRequestHandler extends ChannelInboundHandlerAdapter {
    /** Set while a request is in flight on the channel (read by {@link ClientIdleHandler}). */
    static final AttributeKey<Boolean> BUSY = AttributeKey.valueOf("ollama-balancer.busy");
    private static final Logger log = LoggerFactory.getLogger(ClientRequestHandler.class);
    private static final int MAX_PIPELINED = 16;

    private final RequestRouter router;
    private final ArrayDeque<FullHttpRequest> held = new ArrayDeque<>();
    private ClientExchange current;
    private boolean busy;
    private ChannelHandlerContext ctx;

    ClientRequestHandler(RequestRouter router) {
        this.router = router;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (busy || !held.isEmpty()) {
            held.add(req);
            ctx.channel().config().setAutoRead(false);
            if (held.size() > MAX_PIPELINED) {
                ctx.close();
            }
            return;
        }
        run(req);
    }

    private void run(FullHttpRequest req) {
        busy = true;
        ctx.channel().attr(BUSY).set(Boolean.TRUE);
        ClientExchange ex = router.route(ctx, req, this::exchangeDone);
        if (busy) {
            current = ex;
        }
    }

    private void exchangeDone() {
        busy = false;
        current = null;
        ctx.channel().attr(BUSY).set(Boolean.FALSE);
        if (!held.isEmpty()) {
            // Not recursively: the next request starts after the current call stack unwinds.
            ctx.executor().execute(this::runHeld);
        }
    }

    private void runHeld() {
        if (busy || !ctx.channel().isActive()) {
            return;
        }
        FullHttpRequest next = held.poll();
        if (next != null) {
            run(next);
        }
        if (held.isEmpty()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && current != null) {
            current.onClientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ClientExchange ex = current;
        current = null;
        if (ex != null) {
            ex.onClientClosed();
        }
        FullHttpRequest r;
        while ((r = held.poll()) != null) {
            r.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection {} failed: {}", ctx.channel().id(), cause.toString());
        ctx.close();
    }
}

package io.ollamabalancer.sim;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * The last handler of a connection: turns each aggregated request into a {@link SimExchange}, runs one exchange at a
 * time (pipelined requests wait their turn, as Go's server does), tells the running exchange when the client leaves or
 * the channel's writability changes. The {@link FullHttpRequest} is released by the superclass after its bytes are
 * copied. One instance per channel; confined to its event loop.
 */
final class SimConnectionHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(SimConnectionHandler.class);
    private static final int MAX_PIPELINED = 64;

    private final SimContext sim;
    private final SimRouter router;
    private final ArrayDeque<SimRequest> pipelined = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private SimExchange current;
    /** Requests this connection has started (a later one arrives on a reused keep-alive connection). */
    private int started;

    SimConnectionHandler(SimContext sim, SimRouter router) {
        this.sim = sim;
        this.router = router;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        sim.counters().onConnection();
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        this.ctx = ctx;
        if (!req.decoderResult().isSuccess()) {
            FullHttpResponse bad = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST,
                    Unpooled.EMPTY_BUFFER);
            bad.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            ctx.writeAndFlush(bad).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (started++ > 0 && !req.uri().startsWith(ControlEndpoint.PREFIX) && sim.faults().takeReusedDrop()) {
            ctx.close();
            return;
        }
        SimRequest request = SimRequest.of(req);
        if (current != null) {
            if (pipelined.size() >= MAX_PIPELINED) {
                ctx.close();
                return;
            }
            pipelined.addLast(request);
            return;
        }
        start(request);
    }

    private void start(SimRequest request) {
        SimExchange x = new SimExchange(ctx, request, sim, this::exchangeDone);
        current = x;
        router.route(x);
    }

    private void exchangeDone() {
        current = null;
        if (!pipelined.isEmpty() && ctx.channel().isActive()) {
            // Next turn in a task of its own, so a synchronous answer never nests inside the previous one.
            ctx.executor().execute(() -> {
                if (current == null && !pipelined.isEmpty() && ctx.channel().isActive()) {
                    start(pipelined.pollFirst());
                }
            });
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        pipelined.clear();
        SimExchange x = current;
        current = null;
        if (x != null) {
            x.clientGone();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (current != null) {
            current.writabilityChanged();
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            // The idle timeout closes only a connection between requests, as Go's server does: it may race with a
            // request already on its way, which then meets a closed connection (what a proxy must retry).
            if (current == null && pipelined.isEmpty()) {
                sim.counters().onIdleClose();
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Resets and broken pipes are what clients that hang up look like; they are not the simulator's errors.
        LOG.debug("sim {}: closing connection {}: {}", sim.config().name(), ctx.channel(), cause.toString());
        ctx.close();
    }
}

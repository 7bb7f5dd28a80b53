package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.relay.ClientExchange;
import io.ollamabalancer.relay.Responses;
import io.ollamabalancer.relay.StreamingExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * The last handler of a client connection: runs its requests one at a time, in order, through the
 * {@link RequestRouter}, and tells the exchange in progress when the client drains or leaves.
 *
 * <p>Two kinds of request arrive: aggregated ones ({@link FullHttpRequest}) and streamed ones (an {@link HttpRequest}
 * head followed by its body parts, for the routes whose bodies are not collected: blob uploads). While a streamed
 * body arrives, the channel does not auto-read: its exchange asks for each read when its backend can take more, and
 * every part goes to it. Otherwise reading stays on while a request runs, so that a client that disconnects is
 * noticed at once (that is how a queued request is withdrawn and a generation stopped). A pipelined request that
 * arrives meanwhile is held, with any body parts of its own, and reading pauses until the current one ends.
 * One instance per channel; event-loop confined.
 *
 * <p>Buffers: passes each {@link FullHttpRequest} to the router (which takes ownership) and each streamed body part
 * to its exchange (likewise), releasing the parts of a streamed request the router answered at once; held
 * pipelined requests and parts are released if the connection closes first.
 */
final class ClientRequestHandler extends ChannelInboundHandlerAdapter {
    /** Set while a request is in flight on the channel (read by {@link ClientIdleHandler}). */
    static final AttributeKey<Boolean> BUSY = AttributeKey.valueOf("ollama-balancer.busy");
    private static final Logger log = LoggerFactory.getLogger(ClientRequestHandler.class);
    private static final int MAX_PIPELINED = 16;

    private final RequestRouter router;
    /** Held requests (full ones, or streamed heads followed by their parts), in arrival order. */
    private final ArrayDeque<HttpObject> held = new ArrayDeque<>();
    private int heldRequests;
    private ClientExchange current;
    /** Takes the parts of the streamed body still arriving; null when none is, or nobody wants it. */
    private StreamingExchange bodyTarget;
    private boolean bodyArriving;
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
        if (msg instanceof HttpRequest req) {
            if (busy || !held.isEmpty()) {
                hold(req);
            } else {
                run(req);
            }
        } else if (msg instanceof HttpContent part) {
            if (held.isEmpty()) {
                deliver(part);
            } else {
                held.add(part); // a part of the last held request
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void hold(HttpRequest req) {
        held.add(req);
        heldRequests++;
        ctx.channel().config().setAutoRead(false);
        if (heldRequests > MAX_PIPELINED) {
            ctx.close();
        }
    }

    /** A part of the streamed body now arriving: to its exchange, or released if the request was answered. */
    private void deliver(HttpContent part) {
        boolean last = part instanceof LastHttpContent;
        if (bodyTarget != null && bodyArriving) {
            bodyTarget.onRequestContent(part);
        } else {
            part.release();
        }
        if (last) {
            bodyArriving = false;
            bodyTarget = null;
        }
    }

    private void run(HttpRequest req) {
        busy = true;
        ctx.channel().attr(BUSY).set(Boolean.TRUE);
        if (req instanceof RefusedRequest refused) {
            // Its turn has come: every request before it was answered. The codec reads nothing after a bad head.
            refused.release();
            Responses.errorAndClose(ctx, refused.status(), refused.message());
            return;
        }
        ClientExchange ex;
        if (req instanceof FullHttpRequest full) {
            ex = router.route(ctx, full, this::exchangeDone);
        } else {
            // The body follows: read it only as fast as the exchange's backend takes it.
            ctx.channel().config().setAutoRead(false);
            bodyArriving = true;
            StreamingExchange streaming = router.routeStreamed(ctx, req, this::exchangeDone);
            bodyTarget = streaming;
            ex = streaming;
            // Parts of this request that were held with it.
            while (bodyArriving && held.peek() instanceof HttpContent part) {
                held.poll();
                deliver(part);
            }
        }
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
        } else {
            // Also after a streamed request answered before its body ended: what still comes is read and dropped
            // until the connection closes.
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void runHeld() {
        if (busy || !ctx.channel().isActive()) {
            return;
        }
        HttpObject next = held.poll();
        if (next instanceof HttpRequest req) {
            heldRequests--;
            run(req);
        } else if (next != null) {
            ReferenceCountUtil.release(next); // cannot happen: held parts always follow their head
        }
        if (held.isEmpty() && !bodyArriving) {
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
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ClientConnections.Command.ABORT) {
            // The drain's grace ran out (DrainHandler closes the connection after this answer).
            if (current != null) {
                current.abort(ClientConnections.ABORT_REASON);
            }
            return;
        }
        if (evt instanceof IdleStateEvent) {
            // Only reaches here while a request is in flight (ClientIdleHandler closes idle connections otherwise).
            if (current instanceof StreamingExchange streaming) {
                streaming.onClientIdle();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ClientExchange ex = current;
        current = null;
        bodyTarget = null;
        if (ex != null) {
            ex.onClientClosed();
        }
        HttpObject o;
        while ((o = held.poll()) != null) {
            ReferenceCountUtil.release(o);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection {} failed: {}", ctx.channel().id(), cause.toString());
        ctx.close();
    }
}

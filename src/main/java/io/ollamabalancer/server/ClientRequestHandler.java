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
 * <p>Every answer on the connection goes out through this order: a request the front door refused (a
 * {@link RefusedRequest}: a bad head, a body over a limit, a CORS answer, a missed read deadline) waits its turn like
 * any other and is answered by {@link RequestRouter#refuse}; one that closes the connection closes it only after the
 * answers before it were written, and nothing after it is read. The pipeline's depth is bounded in requests and in
 * body bytes; past either, the request is refused (503) in its turn and the connection closes.
 *
 * <p>Buffers: passes each {@link FullHttpRequest} to the router (which takes ownership) and each streamed body part
 * to its exchange (likewise), releasing the parts of a streamed request the router answered at once; held
 * pipelined requests and parts are released if the connection closes first. Gives a collected request's share of
 * the {@link BodyBudget} back when its exchange ends (or the connection closes with it held).
 */
final class ClientRequestHandler extends ChannelInboundHandlerAdapter {
    /** Set while a request is in flight on the channel (read by {@link ClientIdleHandler}). */
    static final AttributeKey<Boolean> BUSY = AttributeKey.valueOf("ollama-balancer.busy");
    /** {@link System#nanoTime()} when the connection's last answer ended (absent: none yet). */
    static final AttributeKey<Long> IDLE_SINCE = AttributeKey.valueOf("ollama-balancer.idle-since");
    private static final Logger log = LoggerFactory.getLogger(ClientRequestHandler.class);
    private static final int MAX_PIPELINED = 16;

    private final RequestRouter router;
    /** Most body bytes the held requests of one connection may hold together. */
    private final long maxPipelinedBytes;
    private long heldBytes;
    /** The collected request in flight, whose budget share is given back when it ends. */
    private AggregatedRequest charged;
    /** Set once a closing refusal is held: what arrives after it is never answered, so it is dropped. */
    private boolean closingHeld;
    /** Held requests (full ones, or streamed heads followed by their parts), in arrival order. */
    private final ArrayDeque<HttpObject> held = new ArrayDeque<>();
    private int heldRequests;
    private ClientExchange current;
    /** Takes the parts of the streamed body still arriving; null when none is, or nobody wants it. */
    private StreamingExchange bodyTarget;
    private boolean bodyArriving;
    private boolean busy;
    private ChannelHandlerContext ctx;

    ClientRequestHandler(RequestRouter router, long maxPipelinedBytes) {
        this.router = router;
        this.maxPipelinedBytes = maxPipelinedBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closingHeld) {
            // The connection ends with a refusal already waiting its turn.
            releaseRequest(msg);
            return;
        }
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
        ctx.channel().config().setAutoRead(false);
        long bytes = req instanceof FullHttpRequest full ? full.content().readableBytes() : 0;
        if (heldRequests >= MAX_PIPELINED || heldBytes + bytes > maxPipelinedBytes) {
            // Over the connection's pipeline depth, in requests or in bytes: refused in its turn, then the
            // connection closes (nothing after it is read).
            releaseRequest(req);
            bytes = 0;
            req = RefusedRequest.closing(503, "too many pipelined requests on one connection (at most "
                    + MAX_PIPELINED + " or " + maxPipelinedBytes + " body bytes)", null);
        }
        if (req instanceof RefusedRequest refused && refused.closes()) {
            closingHeld = true;
        }
        held.add(req);
        heldRequests++;
        heldBytes += bytes;
    }

    /** Releases a request or part that will never run, with its share of the body budget. */
    private static void releaseRequest(Object msg) {
        if (msg instanceof AggregatedRequest a) {
            a.releaseBudget();
        }
        ReferenceCountUtil.release(msg);
    }

    /** A part of the streamed body now arriving: to its exchange, or released if the request was answered. */
    private void deliver(HttpContent part) {
        if (!part.decoderResult().isSuccess()) {
            // A streamed body whose framing broke (an invalid chunk size): the codec reads nothing after it, so
            // the exchange cannot get the rest; it learns of the close.
            part.release();
            ctx.close();
            return;
        }
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
            // Its turn has come: every request before it was answered.
            router.refuse(ctx, refused, this::exchangeDone);
            return;
        }
        if (req instanceof AggregatedRequest collected) {
            charged = collected;
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
        giveBudgetBack();
        busy = false;
        current = null;
        ctx.channel().attr(BUSY).set(Boolean.FALSE);
        ctx.channel().attr(IDLE_SINCE).set(System.nanoTime());
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
            heldBytes -= req instanceof FullHttpRequest full ? full.content().readableBytes() : 0;
            run(req);
        } else if (next != null) {
            ReferenceCountUtil.release(next); // cannot happen: held parts always follow their head
        }
        if (held.isEmpty() && !bodyArriving) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void giveBudgetBack() {
        if (charged != null) {
            charged.releaseBudget();
            charged = null;
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
        giveBudgetBack();
        HttpObject o;
        while ((o = held.poll()) != null) {
            releaseRequest(o);
        }
        heldBytes = 0;
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection {} failed: {}", ctx.channel().id(), cause.toString());
        ctx.close();
    }
}

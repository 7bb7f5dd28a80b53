package io.ollamabalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.config.Durations;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The read deadlines of one client connection, against clients that send slowly on purpose (slowloris): a request
 * head must be complete within {@code --header-timeout} of its first byte, and a body may pause at most
 * {@code --body-read-timeout} between bytes. A missed deadline becomes a closing {@link RefusedRequest} (408),
 * answered in its turn after the requests before it; from then on every byte the client sends is dropped.
 * A new connection's first head is due within {@code --header-timeout} of the opening; one that sent nothing by then
 * is closed without an answer. The idle time between requests is not timed here ({@link ClientIdleHandler} does that), nor any time during which
 * the balancer itself stopped reading (a pipelined request waiting its turn, an upload paced by its backend).
 *
 * <p>Two handlers share the state: {@link #bytes} sits before the HTTP codec and sees when bytes arrive (a head's
 * first byte decodes to nothing yet, nor the start of a head that came in the same read as the end of the request
 * before it), {@link #messages()} sits after it and sees where heads and bodies end.
 * One instance per channel; event-loop confined. Buffers: passes everything on, except the bytes dropped after a
 * missed deadline, which it releases.
 */
final class RequestReadDeadlines {
    /** OPENED: a new connection that has sent nothing yet; its first head is due like any head. */
    private enum Phase { OPENED, BETWEEN, HEAD, BODY }

    private final long headerNanos;
    private final long bodyNanos;
    private final String headerText;
    private final String bodyText;
    private Phase phase = Phase.BETWEEN;
    /** When the head's first byte came (HEAD), or the last body byte (BODY). */
    private long since;
    private ScheduledFuture<?> timer;
    /** When {@link #timer} fires ({@link System#nanoTime()}), if set. */
    private long timerAt;
    private boolean expired;
    private ChannelHandlerContext messagesCtx;

    RequestReadDeadlines(Duration header, Duration body) {
        this.headerNanos = header.toNanos();
        this.bodyNanos = body.toNanos();
        this.headerText = Durations.format(header);
        this.bodyText = Durations.format(body);
    }

    /** The handler that goes before the codec. */
    ChannelHandler bytes() {
        return new Bytes();
    }

    /** The handler that goes after the codec. */
    ChannelHandler messages() {
        return new Messages();
    }

    private void bytesArrived(ChannelHandlerContext ctx) {
        long now = System.nanoTime();
        if (phase == Phase.OPENED) {
            // The first head's deadline runs from the connection's opening, as Go's ReadHeaderTimeout does.
            phase = Phase.HEAD;
        } else if (phase == Phase.BETWEEN) {
            phase = Phase.HEAD;
            since = now;
            arm(ctx, headerNanos);
        } else if (phase == Phase.BODY) {
            // Not re-armed per read: the timer looks at the time of the last byte when it fires. (A head's
            // deadline runs from its first byte, so HEAD keeps its start.)
            since = now;
        }
    }

    private void headArrived(ChannelHandlerContext ctx, boolean bodyFollows) {
        if (bodyFollows) {
            phase = Phase.BODY;
            since = System.nanoTime();
            arm(ctx, bodyNanos);
        } else {
            between();
        }
    }

    /**
     * No deadline runs until the next head starts. The timer is left to fire (it then finds nothing to time): on a
     * keep-alive connection it is usually still pending when the next request comes, which then needs no timer of
     * its own. Cancelling and scheduling two timers per request showed in the profile of small requests.
     */
    private void between() {
        phase = Phase.BETWEEN;
    }

    /**
     * Makes sure the timer fires within {@code delayNanos} from now: a pending timer that fires no later is kept
     * (when it fires early, {@link #check} looks at the deadline and waits the rest).
     */
    private void arm(ChannelHandlerContext ctx, long delayNanos) {
        long at = System.nanoTime() + delayNanos;
        if (timer != null) {
            if (timerAt - at <= 0) {
                return;
            }
            timer.cancel(false);
        }
        timerAt = at;
        timer = ctx.executor().schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (phase == Phase.BETWEEN || expired || messagesCtx == null || !messagesCtx.channel().isActive()) {
            return;
        }
        long limit = phase == Phase.BODY ? bodyNanos : headerNanos;
        long now = System.nanoTime();
        if (!messagesCtx.channel().config().isAutoRead()) {
            // The balancer is not reading (a request waiting its turn, an upload paced by its backend): the
            // client is not the slow one. Time again from now.
            since = now;
        }
        long left = since + limit - now;
        if (left > 0) {
            arm(messagesCtx, left);
            return;
        }
        expired = true;
        if (phase == Phase.OPENED) {
            // Nothing was sent: there is no request to answer, and an answer nobody asked for could be taken by a
            // pooling client as the answer to its next request.
            messagesCtx.close();
            return;
        }
        String why = phase == Phase.HEAD
                ? "request head not received within " + headerText + " (--header-timeout)"
                : "request body not received: nothing arrived for " + bodyText + " (--body-read-timeout)";
        phase = Phase.BETWEEN;
        messagesCtx.fireChannelRead(RefusedRequest.closing(408, why, null));
    }

    private void stop() {
        expired = true;
        between();
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** Before the codec: notes when bytes arrive; drops them once a deadline was missed. */
    private final class Bytes extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            phase = Phase.OPENED;
            since = System.nanoTime();
            arm(ctx, headerNanos);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (expired) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (!(msg instanceof ByteBuf buf) || !buf.isReadable()) {
                ctx.fireChannelRead(msg);
                return;
            }
            bytesArrived(ctx);
            // Kept for a look after decoding: when the decoder had nothing pending, it decodes from this buffer
            // itself, so what is left readable is the start of a head that came behind the request just ended.
            // (When it had bytes pending, it copies these into them and this one reads empty: such a head is then
            // timed from its next byte, or cut by --client-idle-timeout if none comes.)
            buf.retain();
            try {
                ctx.fireChannelRead(msg);
            } finally {
                boolean leftOver = buf.isReadable();
                buf.release();
                if (leftOver && phase == Phase.BETWEEN && !expired) {
                    phase = Phase.HEAD;
                    since = System.nanoTime();
                    arm(ctx, headerNanos);
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            stop();
            ctx.fireChannelInactive();
        }
    }

    /** After the codec: notes where heads and bodies end. */
    private final class Messages extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            messagesCtx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest) {
                headArrived(ctx, !(msg instanceof LastHttpContent));
            } else if (msg instanceof LastHttpContent) {
                between();
            }
            ctx.fireChannelRead(msg);
        }
    }
}

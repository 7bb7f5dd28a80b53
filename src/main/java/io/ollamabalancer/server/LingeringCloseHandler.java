package io.ollamabalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.relay.Responses;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a client connection gently when its last answer was given while the client may still be sending a body (a
 * 413, an upload answered early, an error mid-upload): the answer is flushed, the output side is shut (the client
 * reads the whole answer, then end of stream), and whatever the client still sends is read and dropped until it
 * closes its side, {@value #LINGER_MILLIS} ms pass or {@value #MAX_DRAIN_BYTES} bytes were dropped. Closing at once with unread bytes in the socket makes the
 * kernel send a reset, and a reset makes the client's kernel discard the answer it had not read yet, so the client
 * saw "connection reset" instead of, say, Ollama's 200 for a blob it already had. Go's server lingers the same way.
 *
 * <p>Sits first in the pipeline so that dropped bytes never reach the HTTP decoder. Acts only when the answer asked
 * for it ({@link Responses#LINGER_ON_CLOSE}). Owns the buffers it drops. One per channel, event loop only.
 */
final class LingeringCloseHandler extends ChannelDuplexHandler {
    static final long LINGER_MILLIS = 500;
    /**
     * Most bytes dropped while lingering before the close comes at once: a client still pushing a large body past
     * a 413 would otherwise be read at full speed for the whole linger. Go's server drains 256 KiB the same way.
     */
    static final long MAX_DRAIN_BYTES = 256 * 1024;

    private boolean lingering;
    private long drained;
    private ChannelPromise closing;
    private ScheduledFuture<?> timer;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            if (msg instanceof ByteBuf b) {
                drained += b.readableBytes();
            }
            ReferenceCountUtil.release(msg);
            if (drained > MAX_DRAIN_BYTES) {
                closeNow(ctx);
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (closing != null) {
            // A second close while lingering (the keep-alive handler and the answer's writer both close after a
            // closing answer): it completes with the lingering one instead of cutting it short.
            ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
            return;
        }
        if (lingering || !Boolean.TRUE.equals(ctx.channel().attr(Responses.LINGER_ON_CLOSE).get())
                || !(ctx.channel() instanceof DuplexChannel duplex) || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        lingering = true;
        closing = promise;
        duplex.shutdownOutput().addListener(f -> {
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        });
        // The client closing its side ends the connection (channelInactive, or the read of end of stream);
        // otherwise the timer does, or draining too much.
        timer = ctx.executor().schedule(() -> closeNow(ctx), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void closeNow(ChannelHandlerContext ctx) {
        if (closing == null) {
            return;
        }
        ChannelPromise p = closing;
        closing = null;
        timer.cancel(false);
        ctx.close(p);
    }
}

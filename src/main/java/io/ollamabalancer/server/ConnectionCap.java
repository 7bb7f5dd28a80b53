package io.ollamabalancer.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.api.ErrorBodies;
import io.ollamabalancer.relay.Responses;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The cap on open client connections ({@code --max-client-connections}), over every listening port. A connection
 * above it is answered at once with a complete {@code 503} (Ollama's error body, {@code Retry-After},
 * {@code Connection: close}) without reading its request, then closed gently; one that cannot even be written to is
 * closed at once. Counts the connections open and those refused, for {@code /metrics}.
 *
 * <p>Thread-safe (atomic counters; accept happens on any event loop). The refusal's buffer goes to the channel.
 */
final class ConnectionCap {
    static final int RETRY_AFTER_SECONDS = 1;
    private static final byte[] REFUSAL;

    static {
        byte[] body = ErrorBodies.ollama("server busy, please try again.  too many client connections");
        String head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + Responses.JSON + "\r\nContent-Length: "
                + body.length + "\r\nRetry-After: " + RETRY_AFTER_SECONDS + "\r\nConnection: close\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        REFUSAL = new byte[h.length + body.length];
        System.arraycopy(h, 0, REFUSAL, 0, h.length);
        System.arraycopy(body, 0, REFUSAL, h.length, body.length);
    }

    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder refused = new LongAdder();

    ConnectionCap(int max) {
        this.max = max;
    }

    /**
     * Admits {@code ch} if it fits under the cap (counted until it closes), else counts a refusal and returns
     * false; the caller then gives it only {@link #refusal()}.
     */
    boolean admit(Channel ch) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            refused.increment();
            return false;
        }
        ch.closeFuture().addListener(f -> open.decrementAndGet());
        return true;
    }

    /** The handler of a refused connection: answers 503 once it is active, then closes. */
    ChannelHandler refusal() {
        return Refusal.INSTANCE;
    }

    int open() {
        return open.get();
    }

    long refused() {
        return refused.sum();
    }

    @ChannelHandler.Sharable
    private static final class Refusal extends ChannelInboundHandlerAdapter {
        static final Refusal INSTANCE = new Refusal();

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (!ctx.channel().isWritable()) {
                ctx.close();
                return;
            }
            // The client may be sending its request: close gently so it reads the answer rather than a reset.
            ctx.channel().attr(Responses.LINGER_ON_CLOSE).set(Boolean.TRUE);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(REFUSAL)).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }
}

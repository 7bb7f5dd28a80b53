package io.ollamabalancer.upstream;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.ollamabalancer.backend.Backend;

/**
 * Real upstream pools whose connections are {@link EmbeddedChannel}s with a real upstream pipeline (the same
 * initializer: client codec, idle handler, the relay handler), for unit tests of what uses the pools. A test writes
 * a backend's raw bytes into a channel and reads what the balancer sent out of it; the channel does not auto-read,
 * and counts the reads asked of it ({@link #reads}).
 */
public final class EmbeddedUpstream {
    private EmbeddedUpstream() {
    }

    /** A connection's channel, not yet in a pool. */
    public static EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel(new UpstreamChannelInitializer(60_000, null));
        ch.config().setAutoRead(false);
        ch.pipeline().addFirst("reads", new ReadCounter());
        return ch;
    }

    /** How many reads were asked of a channel made by {@link #channel}. */
    public static int reads(EmbeddedChannel ch) {
        return ((ReadCounter) ch.pipeline().get("reads")).count;
    }

    /**
     * Pools that lend {@code idle} (first one first) to acquires for {@code backend} on {@code loop}, and open at most
     * {@code maxOpen} new connections (a new one is a real connect: tests keep it at 0 to see the pool's bound).
     */
    public static UpstreamPools pools(Backend backend, EventLoop loop, int maxOpen, EmbeddedChannel... idle) {
        UpstreamPools pools = new UpstreamPools(NioSocketChannel.class, NioDatagramChannel.class, 1_000, 60_000,
                slots -> maxOpen, null);
        UpstreamPool pool = pools.pool(backend, loop);
        for (int i = idle.length - 1; i >= 0; i--) {
            pool.giveBack(idle[i]);
            // Counted from here: the reads its exchanges ask for, not the one the pool asks of an idle channel.
            ((ReadCounter) idle[i].pipeline().get("reads")).count = 0;
        }
        return pools;
    }

    /** Counts the reads asked of its channel. */
    private static final class ReadCounter extends ChannelDuplexHandler {
        int count;

        @Override
        public void read(ChannelHandlerContext ctx) {
            count++;
            ctx.read();
        }
    }
}

package io.ollamabalancer.loadgen;

import io.netty.bootstrap.Bootstrap;
import io.netty.handler.ssl.SslContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs one load: opens {@link LoadgenConfig#connections()} {@link ConnectionLoop}s over a private event-loop group
 * (epoll when available), started {@code rampUp / connections} apart, waits for all of them (at most
 * {@link LoadgenConfig#bound()}, then stops the rest), and returns the report. The calling thread only waits;
 * the group is shut down before returning.
 */
public final class LoadGenerator {
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;

    private LoadGenerator() {
    }

    public static LoadReport run(LoadgenConfig config) throws InterruptedException {
        return run(config, LoadClock.SYSTEM);
    }

    public static LoadReport run(LoadgenConfig config, LoadClock clock) throws InterruptedException {
        return run(config, clock, null);
    }

    /** As {@link #run(LoadgenConfig)}, with {@code tls} as the client context for {@code https://} targets. */
    public static LoadReport run(LoadgenConfig config, SslContext tls) throws InterruptedException {
        return run(config, LoadClock.SYSTEM, tls);
    }

    private static LoadReport run(LoadgenConfig config, LoadClock clock, SslContext tls)
            throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends Channel> channelClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(config.threads(),
                new DefaultThreadFactory("loadgen", true), io);
        try {
            Bootstrap base = new Bootstrap().channel(channelClass)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS);
            LoadStats measured = new LoadStats();
            LoadStats warmup = new LoadStats();
            int n = config.connections();
            CountDownLatch done = new CountDownLatch(n);
            AtomicLong sequence = new AtomicLong();
            long start = clock.nanoTime();
            long rampNanos = config.rampUp().toNanos();
            long deadline = start + rampNanos + config.duration().toNanos();
            List<ConnectionLoop> loops = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                EventLoop loop = group.next();
                ConnectionLoop c = new ConnectionLoop(config.target(i), config, loop, base, measured, warmup, clock,
                        sequence, deadline, done::countDown, tls);
                loops.add(c);
                long delay = rampNanos * i / n;
                if (delay == 0) {
                    c.start();
                } else {
                    loop.schedule(c::start, delay, TimeUnit.NANOSECONDS);
                }
            }
            boolean all = done.await(config.bound().toNanos(), TimeUnit.NANOSECONDS);
            if (!all) {
                loops.forEach(ConnectionLoop::stop);
                done.await(5, TimeUnit.SECONDS);
            }
            long elapsed = clock.nanoTime() - start;
            return new LoadReport(config, measured.snapshot(), warmup.snapshot(), elapsed, all);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}

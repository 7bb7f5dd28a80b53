package io.ollamabalancer.server;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The balancer's client connections as one set, for the graceful drain: whether the drain has begun (then
 * {@code /ready} answers 503 and every response carries {@code Connection: close}), how many requests are open on
 * them (read and not yet fully answered, queued ones included), and the commands the drain sends to every
 * connection ({@link DrainHandler} carries them out on each connection's event loop).
 *
 * <p>Thread-safe: the flag is volatile, the counters atomic, the group Netty's concurrent {@link ChannelGroup};
 * commands are user events fired into each pipeline, so they run on the connection's own loop. Holds no buffers.
 */
final class ClientConnections {
    /** Commands the drain sends to every connection; see {@link DrainHandler}. */
    enum Command {
        /** Close the connection if no request is open on it (its next request would race the close anyway). */
        CLOSE_IF_IDLE,
        /** The grace ran out: abort the request in progress ({@code ClientExchange.abort}), then close. */
        ABORT
    }

    /** The text of an aborted request's 503 or of a stream's final error line. */
    static final String ABORT_REASON = "the balancer is shutting down; retry the request";

    private final ChannelGroup channels = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger openRequests = new AtomicInteger();
    private final LongAdder answeredWhileDraining = new LongAdder();
    private volatile boolean draining;

    /** A new client connection (called from its {@link DrainHandler}); a closed one leaves the set by itself. */
    void add(Channel ch) {
        channels.add(ch);
    }

    /** From now on {@code /ready} answers 503 and every response closes its connection. */
    void beginDrain() {
        draining = true;
    }

    boolean draining() {
        return draining;
    }

    void requestOpened() {
        openRequests.incrementAndGet();
    }

    void requestEnded() {
        openRequests.decrementAndGet();
        if (draining) {
            answeredWhileDraining.increment();
        }
    }

    /** Requests read and not yet fully answered, over all connections (queued and streaming ones included). */
    int openRequests() {
        return openRequests.get();
    }

    /** Responses completed since the drain began. */
    long answeredWhileDraining() {
        return answeredWhileDraining.sum();
    }

    int connections() {
        return channels.size();
    }

    /** Sends {@code command} to every open connection; returns at once (each runs on its connection's loop). */
    void send(Command command) {
        for (Channel ch : channels) {
            ch.pipeline().fireUserEventTriggered(command);
        }
    }

    /** Completes when every connection open now has closed (no new ones come once the listeners are closed). */
    ChannelGroupFuture allClosed() {
        return channels.newCloseFuture();
    }

    /** Closes whatever is still open (the last step, when answers had their time to be written). */
    ChannelGroupFuture closeAll() {
        return channels.close();
    }
}

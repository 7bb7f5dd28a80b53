package io.ollamabalancer.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.ollamabalancer.backend.Backend;

import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive HTTP/1.1 channels to one backend, owned by one event loop. Because the client channel that asks
 * runs on the same loop, the idle deque needs no lock; every method asserts it runs there.
 *
 * <p>Contract: each {@link #acquire} that succeeds yields an {@link UpstreamConnection} that is given back exactly
 * once, by {@code release()} (reusable) or {@code discard()} (closed). Idle channels are reused most-recent first,
 * checked for liveness on acquire, and closed by their idle handler after the configured idle time. The number of
 * open channels to a backend, across all loops, is bounded by the backend's {@link ConnectionBound}: at the bound an
 * acquire waits, first come first served, for a channel given back on this loop or a permit freed anywhere, up to
 * the wait time, and then fails with {@link PoolExhaustedException}. Cancelling the returned future withdraws the
 * wait.
 */
final class UpstreamPool {
    private final Backend backend;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final ConnectionBound bound;
    private final int maxIdle;
    private final long waitMillis;
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();
    /** {@code idle.size()}, readable from other loops (a waiter there asks whether this pool holds an idle one). */
    private volatile int idleCount;

    UpstreamPool(Backend backend, EventLoop loop, Bootstrap bootstrap, ConnectionBound bound, int maxIdle,
                 long waitMillis) {
        this.backend = backend;
        this.loop = loop;
        this.bootstrap = bootstrap;
        this.bound = bound;
        this.maxIdle = maxIdle;
        this.waitMillis = waitMillis;
        bound.register(this);
    }

    Backend backend() {
        return backend;
    }

    EventLoop loop() {
        return loop;
    }

    /** A channel: an idle one unless {@code freshOnly}, which always opens a new one (a retry after a stale reuse). */
    Future<UpstreamConnection> acquire(boolean freshOnly) {
        assert loop.inEventLoop();
        Promise<UpstreamConnection> promise = loop.newPromise();
        Channel ch;
        while (!freshOnly && (ch = pollIdle()) != null) {
            if (ch.isActive()) {
                return promise.setSuccess(new UpstreamConnection(this, ch, true));
            }
        }
        QueuedAcquire waiter = new QueuedAcquire(promise);
        if (bound.takeOrQueue(waiter)) {
            open(promise);
        } else {
            waiter.startWaiting();
        }
        return promise;
    }

    /** Opens a channel with a permit already taken; the permit is freed when the channel closes. */
    private void open(Promise<UpstreamConnection> promise) {
        ChannelFuture connect = bootstrap.connect();
        Channel fresh = connect.channel();
        fresh.closeFuture().addListener(f -> onClosed(fresh));
        connect.addListener(f -> {
            if (f.isSuccess()) {
                SslHandler tls = fresh.pipeline().get(SslHandler.class);
                if (tls == null) {
                    lend(promise, fresh, false);
                    return;
                }
                // An https:// backend's channel is handed out once the handshake is done, so a certificate the
                // balancer does not trust fails here, as a connection failure with its reason, never mid-request.
                tls.handshakeFuture().addListener(h -> {
                    if (h.isSuccess()) {
                        lend(promise, fresh, false);
                    } else {
                        fresh.close();
                        promise.tryFailure(new BackendTlsException(backend.name(), h.cause()));
                    }
                });
            } else {
                Throwable cause = f.cause();
                promise.tryFailure(cause instanceof ConnectException ? cause
                        : new ConnectException("connect to " + backend.name() + " failed: " + cause));
            }
        });
    }

    /** Lends {@code ch}; if the acquire was cancelled (or timed out) meanwhile, the channel comes back unused. */
    private void lend(Promise<UpstreamConnection> promise, Channel ch, boolean reused) {
        if (!promise.trySuccess(new UpstreamConnection(this, ch, reused))) {
            giveBack(ch);
        }
    }

    /**
     * A channel comes back reusable: to the first waiter if it waits on this loop; closed if the first waiter is on
     * another loop (the close frees the permit it needs); else idle.
     */
    void giveBack(Channel ch) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> giveBack(ch));
            return;
        }
        if (!ch.isActive()) {
            ch.close();
            return;
        }
        ConnectionBound.Waiter first = bound.takeFirstOn(loop);
        if (first != null) {
            // Handed over on a task of its own: the exchange giving it back is still finishing its own accounting.
            loop.execute(() -> first.channelHandedOver(ch));
            return;
        }
        if (bound.hasWaiters() || idle.size() >= maxIdle) {
            ch.close();
            return;
        }
        idle.addFirst(ch);
        idleCount = idle.size();
        // An idle channel keeps one read asked for (it does not auto-read): a backend that closes it is seen while it
        // waits, not at its next use, and the next exchange's read finds the read interest still set. Without this,
        // every request cleared the interest after its response and set it again for the next one: two epoll_ctl
        // calls per request. Bytes a backend sends unasked are dropped by the relay handler (no exchange attached).
        ch.read();
        if (bound.hasWaiters()) {
            // A waiter on another loop queued while this one was parked: its reclaim may have found no idle channel.
            closeOldestIdle();
        }
    }

    private void onClosed(Channel ch) {
        if (loop.inEventLoop()) {
            removeIdle(ch);
        } else {
            loop.execute(() -> removeIdle(ch));
        }
        bound.permitFreed();
    }

    /** Closes the idle channel unused longest, if any (its permit goes to a waiter on another loop). */
    void closeOldestIdle() {
        if (!loop.inEventLoop()) {
            loop.execute(this::closeOldestIdle);
            return;
        }
        Channel ch = idle.pollLast();
        idleCount = idle.size();
        if (ch != null) {
            ch.close();
        }
    }

    /** Closes every idle channel (shutdown, or the backend left the fleet). */
    void closeIdle() {
        if (!loop.inEventLoop()) {
            loop.execute(this::closeIdle);
            return;
        }
        Channel ch;
        while ((ch = pollIdle()) != null) {
            ch.close();
        }
    }

    int idleCount() {
        return idleCount;
    }

    private Channel pollIdle() {
        Channel ch = idle.pollFirst();
        idleCount = idle.size();
        return ch;
    }

    private void removeIdle(Channel ch) {
        idle.remove(ch);
        idleCount = idle.size();
    }

    /**
     * One acquire waiting at the bound. Its promise is the caller's; the timer fails it as pool-exhausted when the
     * wait is over, and a cancelled promise withdraws it from the queue. Confined to the pool's loop, except
     * {@link #permitGranted}, which hops there.
     */
    private final class QueuedAcquire implements ConnectionBound.Waiter {
        private final Promise<UpstreamConnection> promise;
        private ScheduledFuture<?> timer;

        QueuedAcquire(Promise<UpstreamConnection> promise) {
            this.promise = promise;
        }

        void startWaiting() {
            timer = loop.schedule(() -> {
                if (bound.withdraw(this)) {
                    promise.tryFailure(new PoolExhaustedException(backend.name(), bound.max(), waitMillis));
                }
            }, waitMillis, TimeUnit.MILLISECONDS);
            promise.addListener(f -> {
                timer.cancel(false);
                if (f.isCancelled()) {
                    bound.withdraw(this);
                }
            });
            bound.reclaimIdleElsewhere(loop);
        }

        @Override
        public EventLoop loop() {
            return loop;
        }

        @Override
        public void permitGranted() {
            loop.execute(() -> {
                if (promise.isDone()) {
                    bound.permitFreed(); // cancelled or timed out meanwhile: the next waiter's
                } else {
                    open(promise);
                }
            });
        }

        @Override
        public void channelHandedOver(Channel channel) {
            assert loop.inEventLoop();
            lend(promise, channel, true);
        }
    }
}

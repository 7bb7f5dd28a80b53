package io.ollamabalancer.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.ollamabalancer.backend.Backend;

import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keep-alive HTTP/1.1 channels to one backend, owned by one event loop. Because the client channel that asks
 * runs on the same loop, the idle deque needs no lock; every method asserts it runs there.
 *
 * <p>Contract: each {@link #acquire} that succeeds yields an {@link UpstreamConnection} that is given back exactly
 * once, by {@code release()} (reusable) or {@code discard()} (closed). Idle channels are reused most-recent first,
 * checked for liveness on acquire, and closed by their idle handler after the configured idle time. The number of
 * open channels to a backend, across all loops, is bounded by a shared counter.
 */
final class UpstreamPool {
    private final Backend backend;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final AtomicInteger openToBackend;
    private final int maxOpen;
    private final int maxIdle;
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();

    UpstreamPool(Backend backend, EventLoop loop, Bootstrap bootstrap, AtomicInteger openToBackend, int maxOpen,
                 int maxIdle) {
        this.backend = backend;
        this.loop = loop;
        this.bootstrap = bootstrap;
        this.openToBackend = openToBackend;
        this.maxOpen = maxOpen;
        this.maxIdle = maxIdle;
    }

    Backend backend() {
        return backend;
    }

    /** A channel: an idle one unless {@code freshOnly}, which always opens a new one (a retry after a stale reuse). */
    Future<UpstreamConnection> acquire(boolean freshOnly) {
        assert loop.inEventLoop();
        Promise<UpstreamConnection> promise = loop.newPromise();
        Channel ch;
        while (!freshOnly && (ch = idle.pollFirst()) != null) {
            if (ch.isActive()) {
                return promise.setSuccess(new UpstreamConnection(this, ch, true));
            }
        }
        if (openToBackend.incrementAndGet() > maxOpen) {
            openToBackend.decrementAndGet();
            return promise.setFailure(new PoolExhaustedException(backend.name(), maxOpen));
        }
        ChannelFuture connect = bootstrap.connect();
        Channel fresh = connect.channel();
        fresh.closeFuture().addListener(f -> onClosed(fresh));
        connect.addListener(f -> {
            if (f.isSuccess()) {
                SslHandler tls = fresh.pipeline().get(SslHandler.class);
                if (tls == null) {
                    promise.trySuccess(new UpstreamConnection(this, fresh, false));
                    return;
                }
                // An https:// backend's channel is handed out once the handshake is done, so a certificate the
                // balancer does not trust fails here, as a connection failure with its reason, never mid-request.
                tls.handshakeFuture().addListener(h -> {
                    if (h.isSuccess()) {
                        promise.trySuccess(new UpstreamConnection(this, fresh, false));
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
        return promise;
    }

    void giveBack(Channel ch) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> giveBack(ch));
            return;
        }
        if (ch.isActive() && idle.size() < maxIdle) {
            idle.addFirst(ch);
        } else {
            ch.close();
        }
    }

    private void onClosed(Channel ch) {
        openToBackend.decrementAndGet();
        if (loop.inEventLoop()) {
            idle.remove(ch);
        } else {
            loop.execute(() -> idle.remove(ch));
        }
    }

    /** Closes every idle channel (shutdown, or the backend left the fleet). */
    void closeIdle() {
        if (!loop.inEventLoop()) {
            loop.execute(this::closeIdle);
            return;
        }
        Channel ch;
        while ((ch = idle.pollFirst()) != null) {
            ch.close();
        }
    }

    int idleCount() {
        return idle.size();
    }
}

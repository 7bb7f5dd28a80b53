package io.ollamabalancer.relay;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.concurrent.Future;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.backend.Failures;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.schedule.PendingRequest;
import io.ollamabalancer.schedule.Scheduler;
import io.ollamabalancer.upstream.UpstreamConnection;
import io.ollamabalancer.upstream.UpstreamListener;
import io.ollamabalancer.upstream.UpstreamPools;

/**
 * An exchange's side of the backend: the pooled connection of the current attempt, the backend's
 * {@code outstanding} count and the scheduler slot. It is the one place that counts them, so each is given back
 * exactly once whatever path the exchange ends by, and the one place that touches the upstream {@code Channel}: the
 * exchanges send, write, flush and read through it and never see the channel.
 *
 * <p>Accounting: an attempt counts in the backend's {@code outstanding} from {@link #connect} until {@link #end}
 * (or until its connect fails); {@link #end} is idempotent. The slot is held from {@link #slotGranted} until
 * {@link #completeSlot} or {@link #requeue}. A connection that arrives after the attempt ended (the client left
 * while it was being made) goes back to the pool unused.
 *
 * <p>Lives in {@code relay}, not {@code upstream}: the slot is the scheduler's, and {@code upstream} depends on
 * nothing above {@code backend}.
 *
 * <p>Buffers: what is handed to {@link #send} or {@link #write} passes to the upstream channel. Threading: confined
 * to the exchange's event loop, which is also the pooled connection's.
 */
final class UpstreamCall {
    /** What the call tells its exchange, besides the response parts it routes to it as an {@link UpstreamListener}. */
    interface Events extends UpstreamListener {
        /** A connection is ready: the exchange sends its request now. */
        void onConnected();

        /** No connection could be had; the attempt no longer counts as outstanding. */
        void onConnectFailed(FailureKind kind, Throwable cause);
    }

    private final UpstreamPools pools;
    private final Scheduler scheduler;
    private final EventLoop loop;
    private final Events events;

    private Backend backend;
    private UpstreamConnection conn;
    /** The current attempt counts in {@code backend.outstanding()}. */
    private boolean counted;
    private boolean slotHeld;
    /** Numbers the attempts, so that a connect that completes after its attempt ended is told apart. */
    private int attempt;
    /** The acquire of the current attempt while it is under way (it may wait at the backend's connection bound). */
    private Future<UpstreamConnection> acquiring;

    UpstreamCall(UpstreamPools pools, Scheduler scheduler, EventLoop loop, Events events) {
        this.pools = pools;
        this.scheduler = scheduler;
        this.loop = loop;
        this.events = events;
    }

    /** The backend of the current (or last) attempt or slot; {@code null} before either. */
    Backend backend() {
        return backend;
    }

    /** Whether a connection is held (connected and not yet ended). */
    boolean connected() {
        return conn != null;
    }

    /** Whether the connection held served an earlier exchange (a stale keep-alive one may fail on first use). */
    boolean reused() {
        return conn != null && conn.reused();
    }

    // ---- the scheduler's slot ----

    /** The scheduler granted a slot on {@code chosen}. */
    void slotGranted(Backend chosen) {
        backend = chosen;
        slotHeld = true;
    }

    /** Gives the slot back with what the response showed of the backend's speed (nothing if none is held). */
    void completeSlot(PendingRequest pending, TimingSample sample) {
        if (slotHeld) {
            slotHeld = false;
            scheduler.complete(pending, backend, sample);
        }
    }

    /**
     * Gives the slot back and puts the request back in its queue, the current backend excluded for {@code why}
     * (for good, or only while another backend can serve it).
     */
    void requeue(PendingRequest pending, FailureKind why) {
        slotHeld = false;
        scheduler.retryElsewhere(pending, backend, why);
    }

    // ---- the connection ----

    /** Takes a connection to {@code chosen}: a newly opened one when {@code fresh}, else possibly an idle one. */
    void connect(Backend chosen, boolean fresh) {
        end(false);
        backend = chosen;
        counted = true;
        chosen.outstanding().incrementAndGet();
        int mine = ++attempt;
        Future<UpstreamConnection> acquired = fresh ? pools.acquireFresh(chosen, loop) : pools.acquire(chosen, loop);
        acquiring = acquired;
        acquired.addListener((Future<UpstreamConnection> f) -> onAcquired(f, mine));
    }

    private void onAcquired(Future<UpstreamConnection> f, int mine) {
        if (acquiring == f) {
            acquiring = null;
        }
        if (mine != attempt) {
            if (f.isSuccess()) {
                f.getNow().release(); // the attempt ended while connecting: nothing was written on it
            }
            return;
        }
        if (!f.isSuccess()) {
            uncount();
            events.onConnectFailed(FailureKind.ofConnect(f.cause()), f.cause());
            return;
        }
        conn = f.getNow();
        conn.attach(events);
        events.onConnected();
    }

    /**
     * Writes and flushes a whole request and, once it is written, asks for the response. A write that fails ends
     * up in the exchange's {@code onUpstreamClosed}, like a connection that closes before answering.
     */
    void send(HttpObject request) {
        UpstreamConnection c = conn;
        c.channel().writeAndFlush(request).addListener((ChannelFutureListener) f -> {
            if (conn != c) {
                return; // the attempt ended meanwhile
            }
            if (f.isSuccess()) {
                c.channel().read();
            } else {
                events.onUpstreamClosed(f.cause());
            }
        });
    }

    /**
     * Writes a message without flushing. No promise: a write that fails closes the channel and reaches the
     * exchange's {@code onUpstreamClosed}, possibly before this returns (then {@link #connected} is false).
     */
    void write(HttpObject msg) {
        conn.channel().write(msg, conn.channel().voidPromise());
    }

    /** Flushes what was written, if a connection is still held. */
    void flush() {
        if (conn != null) {
            conn.channel().flush();
        }
    }

    /** Whether the connection's write buffer is below its high watermark. */
    boolean writable() {
        return conn != null && conn.channel().isWritable();
    }

    /** The coming response's chunked body, if any, is to come raw ({@link UpstreamConnection#passChunkedBodyRaw}). */
    void passChunkedBodyRaw() {
        conn.passChunkedBodyRaw();
    }

    /** Asks for the next read from the backend (the channel does not auto-read). */
    void read() {
        if (conn != null) {
            conn.channel().read();
        }
    }

    /**
     * Ends the current attempt: its connection goes back to the pool when {@code reusable} (the response was complete
     * and clean), else it is closed, which is how Ollama learns to stop; the attempt stops counting as outstanding.
     * Idempotent; an acquire still waiting at the backend's connection bound is withdrawn, and a connect still under
     * way gives its channel to the pool when it completes.
     */
    void end(boolean reusable) {
        attempt++;
        Future<UpstreamConnection> waiting = acquiring;
        acquiring = null;
        if (waiting != null) {
            // A wait at the connection bound is withdrawn; a connect under way lends its channel back to the pool.
            waiting.cancel(false);
        }
        UpstreamConnection c = conn;
        conn = null;
        if (c != null) {
            if (reusable) {
                c.release();
            } else {
                c.discard();
            }
        }
        uncount();
    }

    /**
     * Charges {@code backend} by {@code kind}'s health rule; the reason becomes its last error when the kind counts
     * at all (the balancer's own limits and stale keep-alive connections say nothing about the backend).
     */
    void charge(FailureKind kind, String why) {
        if (kind.health() != FailureKind.Health.NONE) {
            backend.lastError(why);
        }
        backend.healthTracker().onFailure(kind, why);
    }

    /** A one-line reason for a failure talking to a backend; {@code null} is a connection that just closed. */
    static String describe(Throwable cause) {
        return cause == null ? "connection closed" : Failures.describe(cause);
    }

    private void uncount() {
        if (counted) {
            counted = false;
            backend.outstanding().decrementAndGet();
        }
    }
}

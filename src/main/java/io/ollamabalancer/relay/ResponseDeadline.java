package io.ollamabalancer.relay;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.ollamabalancer.backend.FailureKind;

/**
 * The one timer of an exchange's upstream response: first a first-byte deadline (until the backend's status line),
 * then a stream-idle deadline (the longest silence while the balancer is reading). When one passes, the owner is
 * told once, with {@link FailureKind#FIRST_BYTE_TIMEOUT} or {@link FailureKind#STALL}.
 *
 * <p>Cheap on the per-chunk path: a chunk only stores its arrival time ({@link #activity}). The timer is not moved
 * per chunk; when it fires it compares the last activity with now and sleeps again for the rest of the period, so
 * a busy stream costs one scheduled task per idle period. While the balancer itself holds reading back (the client
 * is slow to take the stream, {@link #pause}) silence is not the backend's fault and never counts.
 *
 * <p>The timer is the client connection's {@link DeadlineClock}, which the connection's exchanges take in turn, so a
 * small request on a keep-alive connection schedules and cancels no timer of its own.
 *
 * <p>Confined to the exchange's event loop (which is also the upstream channel's); no locks.
 */
final class ResponseDeadline implements Runnable {
    /** Told when a deadline passes. */
    interface Expiry {
        void onDeadline(FailureKind kind);
    }

    private final EventLoop loop;
    private final Expiry expiry;
    private final long idleNanos;
    /** The client connection's clock, {@code null} when this deadline keeps a clock of its own. */
    private final DeadlineClock connectionClock;
    /** The clock held while a deadline runs, {@code null} when none does. */
    private DeadlineClock clock;
    private boolean streaming;
    private boolean paused;
    private long firstByteDueNanos;
    private long lastActivityNanos;

    /** A deadline timed by the clock of {@code client}, the connection whose answer it watches. */
    ResponseDeadline(Channel client, long idleNanos, Expiry expiry) {
        this(client.eventLoop(), DeadlineClock.of(client), idleNanos, expiry);
    }

    /** A deadline with a timer of its own on {@code loop}. */
    ResponseDeadline(EventLoop loop, long idleNanos, Expiry expiry) {
        this(loop, null, idleNanos, expiry);
    }

    private ResponseDeadline(EventLoop loop, DeadlineClock connectionClock, long idleNanos, Expiry expiry) {
        this.loop = loop;
        this.connectionClock = connectionClock;
        this.idleNanos = idleNanos;
        this.expiry = expiry;
    }

    /** The request was sent: the head must come within {@code budgetNanos} (0: no deadline). */
    void awaitHead(long budgetNanos) {
        cancel();
        streaming = false;
        if (budgetNanos > 0) {
            firstByteDueNanos = now() + budgetNanos;
            schedule(budgetNanos);
        }
    }

    /** The head arrived: from here on only silence counts. */
    void headReceived() {
        cancel();
        streaming = true;
        paused = false;
        lastActivityNanos = now();
        if (idleNanos > 0) {
            schedule(idleNanos);
        }
    }

    /** A part arrived. A clock read and a field write: the per-chunk path allocates nothing. */
    void activity() {
        lastActivityNanos = now();
    }

    /** The balancer stopped reading (its client is slow): silence no longer counts. */
    void pause() {
        paused = true;
    }

    /** Reading resumed: the silence period starts again. */
    void resume() {
        paused = false;
        lastActivityNanos = now();
    }

    /** The response ended (or failed otherwise): no deadline any more. */
    void cancel() {
        if (clock != null) {
            clock.release();
            clock = null;
        }
    }

    /** The clock's wake-up, possibly early: it looks at the time and asks again for the rest. */
    @Override
    public void run() {
        clock = null; // the clock let go of it when it woke it
        long now = now();
        if (!streaming) {
            long left = firstByteDueNanos - now;
            if (left > 0) {
                schedule(left);
            } else {
                expiry.onDeadline(FailureKind.FIRST_BYTE_TIMEOUT);
            }
            return;
        }
        if (paused) {
            schedule(idleNanos);
            return;
        }
        long quiet = now - lastActivityNanos;
        if (quiet < idleNanos) {
            schedule(idleNanos - quiet);
        } else {
            expiry.onDeadline(FailureKind.STALL);
        }
    }

    /** The loop's clock (a test's {@code EmbeddedChannel} drives it). */
    private long now() {
        return loop.ticker().nanoTime();
    }

    private void schedule(long delayNanos) {
        if (clock == null) {
            clock = connectionClock != null && connectionClock.free() ? connectionClock : DeadlineClock.ownClock(loop);
        }
        clock.arm(this, delayNanos);
    }
}

package io.ollamabalancer.relay;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * One reusable timer that wakes the {@link ResponseDeadline} holding it, no later than that deadline asked for. A
 * wake-up may come early (the timer was left running for an earlier deadline): the deadline then looks at its clock
 * and asks again for the rest, as it does anyway when a stream had activity.
 *
 * <p>Why: a small request's deadlines were two timers scheduled and two cancelled per request (first byte, then
 * stream idle), each an insertion into and a removal from the event loop's timer queue, which showed in the profile.
 * A client connection runs its exchanges one at a time, so its connection holds one clock ({@link #of}) that they
 * take in turn; a timer still pending when the exchange ends is left to fire and finds nobody, and the next
 * exchange's deadlines, which are due later, need no timer of their own. On a keep-alive connection that is one
 * scheduled task per idle period (a minute by default) instead of four timer operations per request. The connection's
 * timer is cancelled when it closes, so closed connections leave nothing in the timer queue.
 *
 * <p>A deadline that finds the connection's clock held by another uses a clock of its own ({@link #ownClock}), whose
 * timer is cancelled when the deadline lets go, as before. Confined to the event loop; no locks.
 */
final class DeadlineClock implements Runnable {
    private static final AttributeKey<DeadlineClock> KEY = AttributeKey.valueOf("ollama-balancer.deadline-clock");

    private final EventLoop loop;
    /** Shared by a connection's exchanges: its timer outlives the deadline that armed it. */
    private final boolean shared;
    private ScheduledFuture<?> timer;
    /** When {@link #timer} fires (the loop's ticker), if set. */
    private long timerAt;
    /** The deadline to wake, {@code null} when none holds the clock. */
    private Runnable holder;

    private DeadlineClock(EventLoop loop, boolean shared) {
        this.loop = loop;
        this.shared = shared;
    }

    /** The clock of a client connection, made at its first use and stopped when the connection closes. */
    static DeadlineClock of(Channel channel) {
        Attribute<DeadlineClock> a = channel.attr(KEY);
        DeadlineClock c = a.get();
        if (c == null) {
            c = new DeadlineClock(channel.eventLoop(), true);
            a.set(c);
            DeadlineClock stop = c;
            channel.closeFuture().addListener(f -> stop.stop());
        }
        return c;
    }

    /** A clock for one deadline alone. */
    static DeadlineClock ownClock(EventLoop loop) {
        return new DeadlineClock(loop, false);
    }

    /** Whether no deadline holds the clock. */
    boolean free() {
        return holder == null;
    }

    /**
     * {@code who} takes the clock (it must be free or already {@code who}'s) and is run within {@code delayNanos}
     * from now: a pending timer that fires no later is kept.
     */
    void arm(Runnable who, long delayNanos) {
        holder = who;
        long at = loop.ticker().nanoTime() + delayNanos;
        if (timer != null) {
            if (timerAt - at <= 0) {
                return;
            }
            timer.cancel(false);
        }
        timerAt = at;
        timer = loop.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }

    /** The holder lets go: it is not woken any more. A shared clock's timer is left to fire (see the class note). */
    void release() {
        holder = null;
        if (!shared) {
            cancelTimer();
        }
    }

    @Override
    public void run() {
        timer = null;
        Runnable who = holder;
        holder = null;
        if (who != null) {
            who.run();
        }
    }

    private void stop() {
        holder = null;
        cancelTimer();
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}

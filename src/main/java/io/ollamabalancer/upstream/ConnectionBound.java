package io.ollamabalancer.upstream;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The bound on open channels to one backend ({@code --max-connections-per-backend}), shared by that backend's
 * per-loop {@link UpstreamPool}s, and the acquires that wait when it is reached, first come first served.
 *
 * <p>Permits: every open (or opening) channel holds one, and so does a waiter that was granted one and is about to
 * open its channel. A channel that closes frees its permit, which goes straight to the first waiter rather than back
 * to the count, so no newcomer overtakes a waiter between the close and its turn. A channel given back reusable goes
 * whole to the first waiter when both are on the same event loop (a channel belongs to the loop it was registered
 * with, and each pool is confined to its loop); when the first waiter is on another loop the pool closes the channel
 * instead, and the freed permit lets the waiter open a fresh one on its own loop. A waiter that finds every permit
 * held by channels idle on other loops asks one of those pools to close its oldest idle channel for it.
 *
 * <p>Threading: any thread. The count and the queue are guarded by this object's monitor, held only for a few field
 * updates, never while calling out; waiters are called back with no lock held, and hop to their own loop. The queue's
 * length is mirrored in a volatile field so that the per-request path — a channel given back while nobody waits,
 * the common case — reads it without taking the monitor that every event loop of the backend shares.
 */
final class ConnectionBound {
    /** An acquire waiting for a permit; its callbacks may come from any thread. */
    interface Waiter {
        /** The event loop of the pool the waiter acquires from. */
        EventLoop loop();

        /** A permit is now the waiter's: it opens a channel with it, or passes it on if it no longer wants one. */
        void permitGranted();

        /** A reusable channel of the waiter's own loop is now the waiter's (called on that loop). */
        void channelHandedOver(Channel channel);
    }

    private final int max;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final List<UpstreamPool> pools = new CopyOnWriteArrayList<>();
    private int open;
    /** {@code waiters.size()}, written under the monitor, read without it. */
    private volatile int queued;

    ConnectionBound(int max) {
        this.max = max;
    }

    int max() {
        return max;
    }

    /** A pool of this backend, asked to close an idle channel when a waiter on another loop needs its permit. */
    void register(UpstreamPool pool) {
        pools.add(pool);
    }

    /** Takes a permit for a new channel; when none is free, queues {@code w} and returns false. */
    synchronized boolean takeOrQueue(Waiter w) {
        if (open < max && waiters.isEmpty()) {
            open++;
            return true;
        }
        waiters.addLast(w);
        queued = waiters.size();
        return false;
    }

    /** A channel closed (or a granted waiter did not want its permit): the permit goes to the first waiter. */
    void permitFreed() {
        Waiter next;
        synchronized (this) {
            next = waiters.pollFirst();
            if (next == null) {
                open--;
                return;
            }
            queued = waiters.size();
        }
        next.permitGranted();
    }

    /** The first waiter, taken out of the queue, if it waits on {@code loop}; else {@code null}. */
    Waiter takeFirstOn(EventLoop loop) {
        if (queued == 0) {
            return null;
        }
        synchronized (this) {
            Waiter first = waiters.peekFirst();
            if (first != null && first.loop() == loop) {
                waiters.pollFirst();
                queued = waiters.size();
                return first;
            }
            return null;
        }
    }

    /** Whether an acquire waits; a volatile read (see the class comment), no lock. */
    boolean hasWaiters() {
        return queued > 0;
    }

    /** Takes {@code w} out of the queue (it timed out or was cancelled); false if it was already served. */
    synchronized boolean withdraw(Waiter w) {
        boolean removed = waiters.remove(w);
        queued = waiters.size();
        return removed;
    }

    /** Open channels, plus permits granted to waiters that are opening theirs. */
    synchronized int open() {
        return open;
    }

    int waiting() {
        return queued;
    }

    /**
     * A waiter on {@code loop} queued: if some other loop's pool holds an idle channel, that pool closes one so that
     * its permit comes to the queue (an idle channel is never given back, so it would otherwise hold it until its
     * idle timeout).
     */
    void reclaimIdleElsewhere(EventLoop loop) {
        for (UpstreamPool p : pools) {
            if (p.loop() != loop && p.idleCount() > 0) {
                p.closeOldestIdle();
                return;
            }
        }
    }
}

package io.ollamabalancer.auth;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One key's per-minute limit in cluster mode: the bucket itself lives in a shared store ({@link BucketLeases}),
 * and this replica spends a <em>lease</em> of it — units the store granted it — without asking anyone, so an
 * admission with headroom costs no round trip. When the lease runs low (under half a chunk, or under what the last
 * request took) it asks for the next chunk in the background; a chunk is {@code limit / (8 × replicas)}, at least 1
 * unit, so all leases together hold at most about an eighth of the limit plus a unit per replica.
 *
 * <p>A request that finds the lease spent while the store is not known to be empty passes <em>on credit</em>
 * (the lease goes into debt, paid from the next grant): the first requests after a quiet spell, or of a burst faster
 * than a round trip to the store, do not wait for it. The debt stays within one chunk (or one request, when larger),
 * so the replicas together overrun the shared bucket by at most a chunk each until their next grants. When the store
 * answered that it is empty, requests are refused until the time it said the bucket refills to what they need — that
 * is the {@code Retry-After}; while an answer is on its way, a request beyond the credit is refused with one second.
 * A lease left unused for {@value #IDLE_SECONDS} s goes back to the store ({@link #idleReturn}), and a debt left that
 * long is paid off.
 *
 * <p>While the store is unreachable ({@link BucketLeases#shared()} false) the lease is forfeited and a local
 * {@link TokenBucket} of {@code limit / replicas last seen} takes over: the replicas together stay within the limit
 * if their counts agree. That bucket starts full the first time and is kept (refilling) across later outages, so a
 * flapping store does not hand out a fresh burst each time. When the store is back the next request asks for a lease
 * again.
 *
 * <p>Threading: {@link #take} and {@link #adjust} from every client event loop, answers from the store's thread;
 * all state is guarded by this object's monitor, held for a few arithmetic steps; asks are handed to the store
 * outside it and never block.
 */
final class LeasedBucket implements Bucket, BucketLeases.Holder {
    static final int IDLE_SECONDS = 5;
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(IDLE_SECONDS);
    /** The Retry-After of a request refused while the next lease is on its way: it should be there long before. */
    private static final long ANSWER_PENDING_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int CHUNKS_PER_LIMIT = 8;

    private final String name;
    private final long perMinute;
    private final BucketLeases leases;
    private final LongSupplier clock;
    private long lease;
    private boolean shared;
    private long generation;
    private boolean asking;
    private boolean knownEmpty;
    private long emptyUntil;
    private long lastUse;
    private TokenBucket alone;

    /**
     * @param name      the shared bucket's name, the same on every replica ({@code <key name>:rpm})
     * @param perMinute the limit
     * @param clock     nanoseconds
     */
    LeasedBucket(String name, long perMinute, BucketLeases leases, LongSupplier clock) {
        if (perMinute <= 0) {
            throw new IllegalArgumentException("perMinute must be positive");
        }
        this.name = name;
        this.perMinute = perMinute;
        this.leases = leases;
        this.clock = clock;
        this.lastUse = clock.getAsLong();
    }

    /** Units asked for at a time, with {@code replicas} sharing the limit. */
    static long chunk(long perMinute, int replicas) {
        long parts = (long) CHUNKS_PER_LIMIT * Math.max(1, replicas);
        return Math.max(1, (perMinute + parts - 1) / parts);
    }

    @Override
    public long take(long n) {
        boolean nowShared = leases.shared();
        int replicas = leases.replicas();
        BucketLeases.Ask ask;
        long wait;
        synchronized (this) {
            long now = clock.getAsLong();
            if (!nowShared) {
                switchTo(false);
                return alone(replicas).take(n);
            }
            switchTo(true);
            lastUse = now;
            long need = Math.min(Math.max(0, n), perMinute);
            boolean empty = knownEmpty && now - emptyUntil < 0;
            // On credit while the next lease is asked for: up to a chunk of debt, or one request of any size.
            boolean credit = !empty && (lease >= 0 || lease - n >= -chunk(perMinute, replicas));
            if (lease >= need || credit) {
                lease -= n;
                wait = 0;
            } else {
                wait = empty ? emptyUntil - now : ANSWER_PENDING_NANOS;
            }
            ask = refill(now, need, replicas);
        }
        if (ask != null) {
            leases.lease(ask, this);
        }
        return wait;
    }

    /** The ask for the next chunk when the lease runs low and none is on its way; {@code null} otherwise. */
    private BucketLeases.Ask refill(long now, long need, int replicas) {
        long chunk = chunk(perMinute, replicas);
        if (asking || lease >= Math.max(need, (chunk + 1) / 2) || knownEmpty && now - emptyUntil < 0) {
            return null;
        }
        asking = true;
        // Enough for a chunk (and a request like this one) after paying any debt.
        long want = Math.max(chunk, need) - lease;
        return new BucketLeases.Ask(name, perMinute, want, 0, Math.max(1, need - lease), generation);
    }

    /** A change between shared and alone: the lease is forfeited either way (the store may have lost it). */
    private void switchTo(boolean s) {
        if (shared != s) {
            shared = s;
            generation++;
            lease = 0;
            asking = false;
            knownEmpty = false;
        }
    }

    private TokenBucket alone(int replicas) {
        double share = (double) perMinute / Math.max(1, replicas);
        if (alone == null) {
            alone = new TokenBucket(share, share, clock);
        } else if (alone.perMinute() != share) {
            alone = new TokenBucket(share, alone.level(), clock);
        }
        return alone;
    }

    @Override
    public void adjust(long delta) {
        synchronized (this) {
            if (shared) {
                lease = Math.max(-perMinute, Math.min(perMinute, lease + delta));
            } else {
                alone(leases.replicas()).adjust(delta);
            }
        }
    }

    @Override
    public synchronized double level() {
        return shared ? lease : alone(leases.replicas()).level();
    }

    @Override
    public void granted(BucketLeases.Ask ask, long units, long waitMillis) {
        synchronized (this) {
            if (ask.generation() != generation) {
                return; // asked before an outage: whatever was granted then is forfeited
            }
            asking = false;
            lease += units;
            knownEmpty = units < ask.need() && waitMillis > 0;
            emptyUntil = clock.getAsLong() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        }
    }

    @Override
    public synchronized void failed(BucketLeases.Ask ask) {
        if (ask.generation() == generation) {
            asking = false;
        }
    }

    @Override
    public synchronized BucketLeases.Ask idleReturn() {
        if (!shared) {
            return new BucketLeases.Ask(name, perMinute, 0, 0, 0, -1);
        }
        long now = clock.getAsLong();
        if (asking || now - lastUse < IDLE_NANOS || knownEmpty && now - emptyUntil < 0) {
            return null;
        }
        if (lease < 0) {
            // Pay the debt of the last request on credit, so that it is not carried for ever.
            asking = true;
            return new BucketLeases.Ask(name, perMinute, -lease, 0, 0, generation);
        }
        long back = lease;
        lease = 0;
        return new BucketLeases.Ask(name, perMinute, 0, back, 0, -1);
    }

    @Override
    public void close() {
        BucketLeases.Ask back = null;
        synchronized (this) {
            if (shared && lease > 0) {
                back = new BucketLeases.Ask(name, perMinute, 0, lease, 0, -1);
            }
            lease = 0;
            generation++;
        }
        if (back != null) {
            leases.lease(back, this);
        }
    }

    @Override
    public synchronized String toString() {
        return "LeasedBucket[" + name + " " + perMinute + "/min " + (shared ? "lease " + lease : "alone") + "]";
    }
}

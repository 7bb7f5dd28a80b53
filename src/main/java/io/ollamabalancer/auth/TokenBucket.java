package io.ollamabalancer.auth;

import java.util.function.LongSupplier;

/**
 * A token bucket that refills {@code perMinute} tokens a minute up to {@code perMinute}. A take needs the bucket to
 * hold what is asked (or a full bucket, for asks bigger than it), then subtracts the whole ask, so a large request
 * is let through when the bucket is full and leaves it in debt; {@link #adjust} refunds or charges after the fact
 * (an estimate corrected by the real count), down to one bucket of debt.
 *
 * <p>Threading: touched from every client event loop; each operation is a short synchronized section on this bucket
 * with no I/O, so contention stays per key. The clock is injected (nanoseconds) for tests.
 */
final class TokenBucket implements Bucket {
    private static final double NANOS_PER_MINUTE = 60e9;

    private final double capacity;
    private final double perNano;
    private final LongSupplier clock;
    private double level;
    private long last;

    TokenBucket(long perMinute, LongSupplier clock) {
        this(perMinute, perMinute, clock);
    }

    /**
     * A bucket of a fractional rate (a replica's share of a limit) that starts at {@code level} (at most full).
     */
    TokenBucket(double perMinute, double level, LongSupplier clock) {
        if (!(perMinute > 0)) {
            throw new IllegalArgumentException("perMinute must be positive");
        }
        this.capacity = perMinute;
        this.perNano = perMinute / NANOS_PER_MINUTE;
        this.clock = clock;
        this.level = Math.min(capacity, level);
        this.last = clock.getAsLong();
    }

    /** Tokens it refills a minute, and holds at most. */
    double perMinute() {
        return capacity;
    }

    /**
     * Takes {@code n} tokens if the bucket holds them (or is full); returns 0 when taken, or else the nanoseconds until
     * it will (nothing is taken then).
     */
    @Override
    public synchronized long take(long n) {
        refill();
        double need = Math.min(n, capacity);
        if (level >= need) {
            level -= n;
            return 0;
        }
        return (long) Math.ceil((need - level) / perNano);
    }

    /** Adds {@code delta} tokens (a refund when positive, a charge when negative), kept within one bucket either way. */
    @Override
    public synchronized void adjust(long delta) {
        refill();
        level = Math.max(-capacity, Math.min(capacity, level + delta));
    }

    /** Tokens available now (negative in debt); for tests and metrics. */
    @Override
    public synchronized double level() {
        refill();
        return level;
    }

    private void refill() {
        long now = clock.getAsLong();
        long elapsed = now - last;
        if (elapsed > 0) {
            level = Math.min(capacity, level + elapsed * perNano);
            last = now;
        }
    }
}

package io.ollamabalancer.cluster;

import java.util.function.LongSupplier;

/**
 * Turns local {@link System#nanoTime()} instants (which mean nothing to another process) into epoch milliseconds
 * that replicas can compare, by one offset taken when it is built. Immutable and thread-safe.
 */
final class WallClock {
    private final long offsetMillis;

    WallClock(LongSupplier nanoTime, LongSupplier epochMillis) {
        this.offsetMillis = epochMillis.getAsLong() - Math.floorDiv(nanoTime.getAsLong(), 1_000_000L);
    }

    /** One offset for the process, so the mirror and the demand view convert the same instant identically. */
    static final WallClock SYSTEM = new WallClock(System::nanoTime, System::currentTimeMillis);

    long epochMillis(long nanoTime) {
        return offsetMillis + Math.floorDiv(nanoTime, 1_000_000L);
    }
}

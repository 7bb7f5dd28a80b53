package io.ollamabalancer.loadgen;

import java.time.Clock;
import java.time.Instant;

/**
 * The two clocks a load run reads: a monotonic one for durations, and the wall clock (nanoseconds since the epoch)
 * to compare with the backend's {@code created_at}. Implementations must be thread-safe.
 */
public interface LoadClock {
    long nanoTime();

    long epochNanos();

    /** {@link System#nanoTime()} and the UTC system clock at its full (nanosecond on Linux) precision. */
    LoadClock SYSTEM = new LoadClock() {
        private final Clock utc = Clock.systemUTC();

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long epochNanos() {
            Instant now = utc.instant();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }
    };
}

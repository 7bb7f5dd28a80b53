package io.ollamabalancer.backend;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** A nanosecond clock that only moves when a test moves it. Thread-safe. */
final class FakeClock implements LongSupplier {
    // Far from zero and negative, so code that treats 0 or positive values as special would be caught.
    private final AtomicLong now = new AtomicLong(-5_000_000_000_000L);

    @Override
    public long getAsLong() {
        return now.get();
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    void advanceMillis(long ms) {
        advance(Duration.ofMillis(ms));
    }
}

package io.ollamabalancer.logging;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Counts the log lines a {@link NonBlockingAppender} dropped because its queue was full (the output was slower than
 * the callers), and decides when it is time to say so: at most once per interval, and only when something new was
 * dropped. {@link #PROCESS} is the process-wide count behind {@code ollama_balancer_log_lines_dropped_total}; logback
 * creates the appenders by reflection, so they find it statically.
 *
 * <p>Thread-safe: any thread may count a drop (a {@link LongAdder}, touched only on the drop path); whichever writer
 * thread asks first once the interval is over takes the report.
 */
public final class DroppedLines {
    /** The balancer's own count, read by {@code /metrics}. */
    public static final DroppedLines PROCESS = new DroppedLines(System::nanoTime, TimeUnit.MINUTES.toNanos(1));

    private final LongAdder dropped = new LongAdder();
    private final LongSupplier clock;
    private final long intervalNanos;
    private final AtomicLong lastReportNanos;
    private final AtomicLong reported = new AtomicLong();

    /**
     * @param clock         nanoseconds, monotonic
     * @param intervalNanos the least time between two reports; the first may come one interval after creation
     */
    DroppedLines(LongSupplier clock, long intervalNanos) {
        this.clock = clock;
        this.intervalNanos = intervalNanos;
        this.lastReportNanos = new AtomicLong(clock.getAsLong() - intervalNanos);
    }

    void dropped() {
        dropped.increment();
    }

    /** Lines dropped since the process started. */
    public long total() {
        return dropped.sum();
    }

    /**
     * The lines dropped since the last report when a report is due now (0 when none is: nothing new was dropped, or
     * the last report is less than an interval old). A non-zero answer is given to one caller only.
     */
    long takeReport() {
        long now = clock.getAsLong();
        long last = lastReportNanos.get();
        long total = dropped.sum();
        long before = reported.get();
        if (total == before || now - last < intervalNanos || !lastReportNanos.compareAndSet(last, now)) {
            return 0;
        }
        reported.set(total);
        return total - before;
    }
}

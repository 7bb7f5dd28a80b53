package io.ollamabalancer.loadgen;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The measurements of one run (or of its warm-up): HdrHistogram {@link Recorder}s for time to first token,
 * per-chunk delivery delay, inter-chunk gap and total time (microseconds, 3 significant digits, fixed range up to
 * an hour so that recording never resizes), and counters.
 * Thread-safe and wait-free for recording: every connection's event loop records into the same instance.
 * {@link #snapshot()} is meant to be called once, after the run.
 */
public final class LoadStats {
    private static final int DIGITS = 3;
    /** Longer values are clamped: one hour, in microseconds. */
    static final long MAX_MICROS = 3_600_000_000L;

    private final Recorder ttft = recorder();
    private final Recorder chunkDelay = recorder();
    private final Recorder chunkGap = recorder();
    private final Recorder total = recorder();
    private final LongAdder started = new LongAdder();
    private final LongAdder ok = new LongAdder();
    private final LongAdder chunks = new LongAdder();
    private final LongAdder withoutCreatedAt = new LongAdder();
    private final LongAdder negativeDelays = new LongAdder();
    private final Map<ErrorKind, LongAdder> errors = new EnumMap<>(ErrorKind.class);
    private final LongAccumulator firstStart = new LongAccumulator(Math::min, Long.MAX_VALUE);
    private final LongAccumulator lastEnd = new LongAccumulator(Math::max, Long.MIN_VALUE);

    public LoadStats() {
        for (ErrorKind k : ErrorKind.values()) {
            errors.put(k, new LongAdder());
        }
    }

    /** Counts and immutable histograms taken from a {@link LoadStats}. */
    public record Snapshot(long started, long ok, long chunks, long chunksWithoutCreatedAt, long negativeDelays,
                           Map<ErrorKind, Long> errors, long spanNanos, Histogram ttft, Histogram chunkDelay,
                           Histogram chunkGap, Histogram total) {
        public long errorCount() {
            return errors.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    void requestStarted(long nanos) {
        started.increment();
        firstStart.accumulate(nanos);
    }

    void firstChunk(long nanos) {
        ttft.recordValue(micros(nanos));
    }

    void gap(long nanos) {
        chunkGap.recordValue(micros(nanos));
    }

    /** One streamed line; {@code delayNanos} is arrival minus {@code created_at}, or absent. */
    void chunk(boolean hasCreatedAt, long delayNanos) {
        chunks.increment();
        if (!hasCreatedAt) {
            withoutCreatedAt.increment();
        } else if (delayNanos < 0) {
            // Only possible if the clock stepped back: recorded as 0 so it cannot hide in a percentile.
            negativeDelays.increment();
            chunkDelay.recordValue(0);
        } else {
            chunkDelay.recordValue(micros(delayNanos));
        }
    }

    void completed(long totalNanos, long endNanos) {
        ok.increment();
        total.recordValue(micros(totalNanos));
        lastEnd.accumulate(endNanos);
    }

    void failed(ErrorKind kind, long endNanos) {
        errors.get(kind).increment();
        lastEnd.accumulate(endNanos);
    }

    public Snapshot snapshot() {
        Map<ErrorKind, Long> e = new EnumMap<>(ErrorKind.class);
        errors.forEach((k, v) -> e.put(k, v.sum()));
        long first = firstStart.get();
        long last = lastEnd.get();
        long span = first == Long.MAX_VALUE || last == Long.MIN_VALUE ? 0 : Math.max(0, last - first);
        return new Snapshot(started.sum(), ok.sum(), chunks.sum(), withoutCreatedAt.sum(), negativeDelays.sum(),
                Map.copyOf(e), span, ttft.getIntervalHistogram(), chunkDelay.getIntervalHistogram(),
                chunkGap.getIntervalHistogram(), total.getIntervalHistogram());
    }

    private static Recorder recorder() {
        return new Recorder(1, MAX_MICROS, DIGITS);
    }

    private static long micros(long nanos) {
        return Math.min(MAX_MICROS, Math.max(0, nanos / 1000));
    }
}

package io.ollamabalancer.metrics;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.PackedHistogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * One latency histogram ({@link SeriesKey}) from recording to reading.
 *
 * <p>Threading: {@link #recordNanos} is called from any thread (event loops) and only touches the {@link Recorder}
 * and a {@link LongAdder}: no lock of ours. Everything else is called by {@link LatencyRecorders} under its roll
 * lock, except {@link #lastInterval()} which reads a published, never-mutated histogram.
 *
 * <p>Two layouts. The few overall series use fixed-range histograms (1 µs to 1 h): recording is wait-free and about
 * 25 ns, at ~190 KB per histogram. Per-label series, up to hundreds of them, are packed: memory follows the values
 * seen, recording costs about 65 ns, and HdrHistogram grows a packed recorder's storage under a short internal
 * lock the first time a new range of values appears (rare once warm).
 */
final class LatencySeries {
    /** Longer waits are clamped: nothing the balancer does should take an hour. */
    static final long MAX_MICROS = TimeUnit.HOURS.toMicros(1);
    static final int DIGITS = 3;

    private final SeriesKey key;
    private final Recorder recorder;
    private final LongAdder sumMicros = new LongAdder();
    // Guarded by the owner's roll lock:
    private final Histogram pending;
    private final Histogram cumulative;
    private Histogram recycle;
    /** The last completed interval, or null when it was empty. Never mutated after publication. */
    private volatile Histogram lastInterval;

    /** @param packed compact, growable storage (per-label series) rather than a fixed range (overall series) */
    LatencySeries(SeriesKey key, boolean packed) {
        this.key = key;
        if (packed) {
            recorder = new Recorder(DIGITS, true);
            pending = new PackedHistogram(DIGITS);
            cumulative = new PackedHistogram(DIGITS);
        } else {
            recorder = new Recorder(1, MAX_MICROS, DIGITS);
            pending = new Histogram(1, MAX_MICROS, DIGITS);
            cumulative = new Histogram(1, MAX_MICROS, DIGITS);
        }
    }

    SeriesKey key() {
        return key;
    }

    /** Records one duration; negative means the stage never happened and is ignored. */
    void recordNanos(long nanos) {
        if (nanos < 0) {
            return;
        }
        long micros = Math.min(nanos / 1_000L, MAX_MICROS);
        recorder.recordValue(micros);
        sumMicros.add(micros);
    }

    /** Moves what the recorder holds into the cumulative and the current-interval histograms (roll lock held). */
    void flush() {
        Histogram interval = recorder.getIntervalHistogram(recycle);
        if (interval.getTotalCount() > 0) {
            pending.add(interval);
            cumulative.add(interval);
        }
        recycle = interval;
    }

    /** Ends the current interval: returns and publishes it (tagged, time-stamped), or null when empty (lock held). */
    Histogram completeInterval(long startMs, long endMs) {
        flush();
        Histogram done = null;
        if (pending.getTotalCount() > 0) {
            done = pending.copy();
            done.setStartTimeStamp(startMs);
            done.setEndTimeStamp(endMs);
            done.setTag(key.tag());
        }
        pending.reset();
        lastInterval = done;
        return done;
    }

    /** A private copy of everything recorded up to the last flush (roll lock held). */
    Histogram cumulativeCopy() {
        return cumulative.copy();
    }

    /** Exact sum of recorded values in microseconds; may run slightly ahead of the last flush. */
    long sumMicros() {
        return sumMicros.sum();
    }

    /** A private copy of the last completed interval, or null when it was empty. */
    Histogram lastInterval() {
        Histogram h = lastInterval;
        if (h == null) {
            return null;
        }
        Histogram copy = h.copy();
        copy.setStartTimeStamp(h.getStartTimeStamp());
        copy.setEndTimeStamp(h.getEndTimeStamp());
        copy.setTag(h.getTag());
        return copy;
    }
}

package io.ollamabalancer.metrics;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * One latency histogram ({@link SeriesKey}) from recording to reading.
 *
 * <p>Threading: {@link #recordNanos} is called from any thread (event loops) and only touches the {@link Recorder}
 * and a {@link LongAdder}, or, for a series recorded per streamed chunk, the calling thread's own recorder
 * ({@link PerThreadRecorder}): no lock of ours. Everything else is called by {@link LatencyRecorders} under its roll
 * lock, except {@link #lastInterval()} which reads a published, never-mutated histogram.
 *
 * <p>Every recorder has a fixed range (1 µs to 1 h), so recording never resizes: it is wait-free (about 25 ns).
 * An auto-resizing packed concurrent recorder was tried for the per-label series and livelocked two event loops
 * under load (one writer spinning in the packed array's entry expansion while another, resizing, waited for it
 * to leave its critical section), which froze the balancer. The few overall series keep 3 significant digits
 * (~190 KB per histogram); the per-label ones, up to a bounded number of labels, keep 2 (~26 KB), which is 1 %
 * precision on a percentile.
 */
final class LatencySeries {
    /** Longer waits are clamped: nothing the balancer does should take an hour. */
    static final long MAX_MICROS = TimeUnit.HOURS.toMicros(1);
    static final int DIGITS = 3;
    static final int LABEL_DIGITS = 2;

    private final SeriesKey key;
    /** The shared recorder and sum, or null when {@link #perThread} records. */
    private final Recorder recorder;
    private final LongAdder sumMicros;
    /** Each recording thread's own recorder and sum, for the series recorded per chunk; or null. */
    private final PerThreadRecorder perThread;
    // Guarded by the owner's roll lock:
    private final Histogram pending;
    private final Histogram cumulative;
    private Histogram recycle;
    /** What was flushed since the last {@link #takeRecent()}; null until the dashboard's sampler first asks. */
    private Histogram recent;
    /** The last completed interval, or null when it was empty. Never mutated after publication. */
    private volatile Histogram lastInterval;

    /** @param perLabel a per-model or per-backend series (coarser precision) rather than an overall one */
    LatencySeries(SeriesKey key, boolean perLabel) {
        this(key, perLabel, false);
    }

    /**
     * @param perLabel        a per-model or per-backend series (coarser precision) rather than an overall one
     * @param perThreadWrites recorded on the hot path (per streamed chunk) by the event loops: each recording
     *                        thread gets its own recorder, at the cost of one histogram per such thread
     */
    LatencySeries(SeriesKey key, boolean perLabel, boolean perThreadWrites) {
        this.key = key;
        int digits = perLabel ? LABEL_DIGITS : DIGITS;
        if (perThreadWrites) {
            recorder = null;
            sumMicros = null;
            perThread = new PerThreadRecorder(MAX_MICROS, digits);
        } else {
            recorder = new Recorder(1, MAX_MICROS, digits);
            sumMicros = new LongAdder();
            perThread = null;
        }
        pending = new Histogram(1, MAX_MICROS, digits);
        cumulative = new Histogram(1, MAX_MICROS, digits);
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
        if (perThread != null) {
            perThread.record(micros);
            return;
        }
        recorder.recordValue(micros);
        sumMicros.add(micros);
    }

    /** Moves what the recorder holds into the cumulative and the current-interval histograms (roll lock held). */
    void flush() {
        if (perThread != null) {
            perThread.drainInto(pending, cumulative);
            return;
        }
        Histogram interval = recorder.getIntervalHistogram(recycle);
        if (interval.getTotalCount() > 0) {
            pending.add(interval);
            cumulative.add(interval);
            if (recent != null) {
                recent.add(interval);
            }
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

    /**
     * Flushes, then returns the count and median/p99 of what was recorded since the last call and starts over (roll
     * lock held). The first call starts the tracking and returns {@link RecentLatency#NONE}: a balancer whose
     * dashboard sampler never runs keeps no extra histogram.
     */
    RecentLatency takeRecent() {
        if (recent == null) {
            flush();
            recent = new Histogram(1, MAX_MICROS, DIGITS);
            return RecentLatency.NONE;
        }
        flush();
        long n = recent.getTotalCount();
        RecentLatency r = n == 0 ? RecentLatency.NONE
                : new RecentLatency(n, recent.getValueAtPercentile(50), recent.getValueAtPercentile(99));
        recent.reset();
        return r;
    }

    /**
     * Count, sum and the values at {@code quantiles} (fractions) of everything recorded up to the last flush, read in
     * place (roll lock held).
     */
    LatencySummary summary(double[] quantiles) {
        long count = cumulative.getTotalCount();
        double[] values = new double[quantiles.length];
        for (int i = 0; i < quantiles.length; i++) {
            values[i] = count == 0 ? Double.NaN : cumulative.getValueAtPercentile(quantiles[i] * 100);
        }
        return new LatencySummary(key, count, sumMicros(), values);
    }

    /** A private copy of everything recorded up to the last flush (roll lock held). */
    Histogram cumulativeCopy() {
        return cumulative.copy();
    }

    /** Exact sum of recorded values in microseconds; may run slightly ahead of the last flush. */
    long sumMicros() {
        return perThread != null ? perThread.sum() : sumMicros.sum();
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

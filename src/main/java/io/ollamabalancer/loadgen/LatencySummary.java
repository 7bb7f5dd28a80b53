package io.ollamabalancer.loadgen;

import org.HdrHistogram.Histogram;

/**
 * Percentiles of one latency histogram, in milliseconds. Immutable.
 *
 * @param count number of values
 */
public record LatencySummary(long count, double mean, double p50, double p90, double p99, double p999, double max) {
    private static final double MICROS_PER_MILLI = 1000.0;

    /** Summarises a histogram whose values are microseconds. */
    public static LatencySummary ofMicros(Histogram h) {
        if (h.getTotalCount() == 0) {
            return new LatencySummary(0, 0, 0, 0, 0, 0, 0);
        }
        return new LatencySummary(h.getTotalCount(), h.getMean() / MICROS_PER_MILLI,
                ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), h.getMaxValue() / MICROS_PER_MILLI);
    }

    private static double ms(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / MICROS_PER_MILLI;
    }
}

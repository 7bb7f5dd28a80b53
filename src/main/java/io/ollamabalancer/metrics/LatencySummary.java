package io.ollamabalancer.metrics;

/**
 * What {@code /metrics} shows of one latency histogram: its count, exact sum and a few quantiles, read from the
 * cumulative histogram in place. A scrape copies no histogram (one overall series is ~190 KB of counts, and a
 * scraper polling every second would otherwise feed the collector megabytes a second). Immutable.
 *
 * @param key       which histogram
 * @param count     values recorded up to the read
 * @param sumMicros exact sum of the values, microseconds
 * @param quantiles the values at the asked quantiles, microseconds, in the order asked; NaN when {@code count} is 0
 */
public record LatencySummary(SeriesKey key, long count, long sumMicros, double[] quantiles) {

    public LatencySummary {
        quantiles = quantiles.clone();
    }

    /** The value at the {@code i}th asked quantile, microseconds (NaN when nothing was recorded). */
    public double quantile(int i) {
        return quantiles[i];
    }
}

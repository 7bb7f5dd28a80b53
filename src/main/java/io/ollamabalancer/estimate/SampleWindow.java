package io.ollamabalancer.estimate;

import java.util.Arrays;

/**
 * The last {@code capacity} values of one error figure, for exact quantiles over a recent window. Not thread-safe:
 * its owner ({@link EstimateErrors}) guards all of its windows with one lock, so that a finished request's figures
 * cost one lock, not one per window.
 */
final class SampleWindow {
    private final double[] ring;
    private long total;

    SampleWindow(int capacity) {
        ring = new double[capacity];
    }

    void add(double v) {
        if (Double.isFinite(v)) {
            ring[(int) (total++ % ring.length)] = v;
        }
    }

    /** Samples ever added. */
    long total() {
        return total;
    }

    /** The values in the window, in no particular order (empty when nothing was added): a copy. */
    double[] values() {
        return Arrays.copyOf(ring, (int) Math.min(total, ring.length));
    }

    /** The q-quantile (nearest rank) of a sorted array, or NaN when empty. */
    static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static double mean(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double s = 0;
        for (double v : values) {
            s += v;
        }
        return s / values.length;
    }
}

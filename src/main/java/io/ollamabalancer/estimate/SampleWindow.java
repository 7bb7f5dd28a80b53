package io.ollamabalancer.estimate;

import java.util.Arrays;

/**
 * The last {@code capacity} values of one error figure, for exact quantiles over a recent window. Thread-safe: adds
 * and reads synchronise on the window (they are rare next to the request path: one add per finished request).
 */
final class SampleWindow {
    private final double[] ring;
    private long total;

    SampleWindow(int capacity) {
        ring = new double[capacity];
    }

    synchronized void add(double v) {
        if (Double.isFinite(v)) {
            ring[(int) (total++ % ring.length)] = v;
        }
    }

    /** Samples ever added. */
    synchronized long total() {
        return total;
    }

    /** The sorted window (empty when nothing was added). */
    synchronized double[] sorted() {
        int n = (int) Math.min(total, ring.length);
        double[] copy = Arrays.copyOf(ring, n);
        Arrays.sort(copy);
        return copy;
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

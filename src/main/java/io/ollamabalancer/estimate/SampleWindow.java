package io.ollamabalancer.estimate;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The last {@code capacity} values of one error figure, for exact quantiles over a recent window. Thread-safe without
 * locks: a writer claims a slot by incrementing the count and stores the value's bits there; a reader copies the slots
 * that hold a value. A reader racing a writer may see a slot's previous value (or, before the window first fills,
 * none): one sample more or less in a window of a thousand. The completions of every event loop write here; none of
 * them ever waits for another or for a reader.
 */
final class SampleWindow {
    /** Bits of NaN: a slot not written yet. */
    private static final long EMPTY = Double.doubleToRawLongBits(Double.NaN);

    private final AtomicLongArray ring;
    private final AtomicLong total = new AtomicLong();

    SampleWindow(int capacity) {
        ring = new AtomicLongArray(capacity);
        for (int i = 0; i < capacity; i++) {
            ring.set(i, EMPTY);
        }
    }

    void add(double v) {
        if (Double.isFinite(v)) {
            long i = total.getAndIncrement();
            ring.set((int) (i % ring.length()), Double.doubleToRawLongBits(v));
        }
    }

    /** Samples ever added. */
    long total() {
        return total.get();
    }

    /** The values in the window, sorted (empty when nothing was added): a copy, sorted outside any lock. */
    double[] sorted() {
        int n = (int) Math.min(total.get(), ring.length());
        double[] out = new double[n];
        int k = 0;
        for (int i = 0; i < n; i++) {
            double v = Double.longBitsToDouble(ring.get(i));
            if (!Double.isNaN(v)) {
                out[k++] = v;
            }
        }
        double[] values = k == n ? out : Arrays.copyOf(out, k);
        Arrays.sort(values);
        return values;
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

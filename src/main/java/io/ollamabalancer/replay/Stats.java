package io.ollamabalancer.replay;

import java.util.Arrays;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** Mean and nearest-rank quantiles of a sample. Stateless. */
final class Stats {
    private Stats() {
    }

    static <T> double[] sorted(List<T> items, ToDoubleFunction<T> value) {
        double[] a = new double[items.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = value.applyAsDouble(items.get(i));
        }
        Arrays.sort(a);
        return a;
    }

    static double mean(double[] a) {
        if (a.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (double v : a) {
            sum += v;
        }
        return sum / a.length;
    }

    /** The nearest-rank {@code q} quantile of an ascending array, NaN when empty. */
    static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
    }
}

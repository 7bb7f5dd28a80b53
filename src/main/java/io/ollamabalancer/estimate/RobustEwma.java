package io.ollamabalancer.estimate;

import java.util.Arrays;

/**
 * An outlier-resistant, exponentially weighted mean of one quantity (kept in log space for rates and durations,
 * where errors are multiplicative). The first few samples give their median; after that each sample moves the mean
 * by at most {@value #CLIP} typical deviations, and the typical deviation itself grows by at most 20 % per sample,
 * so a single wild value (a prompt-cache hit, a swap storm) barely moves it while a real, lasting change gets
 * through within a dozen or two samples.
 *
 * <p>Immutable: {@link #update} returns the next value, so an owner publishes it through one volatile field and
 * serialises its writers.
 */
final class RobustEwma {
    static final RobustEwma EMPTY = new RobustEwma(0, 0, 0, new double[0]);

    private static final int WARMUP = 5;
    private static final double MIN_ALPHA = 0.1;
    private static final double CLIP = 3.0;
    private static final double MIN_SCALE = 0.04;
    private static final double INITIAL_SCALE = 0.5;

    private final double mean;
    private final double scale;
    private final long count;
    private final double[] warmup;

    private RobustEwma(double mean, double scale, long count, double[] warmup) {
        this.mean = mean;
        this.scale = scale;
        this.count = count;
        this.warmup = warmup;
    }

    /** The value after one more sample; non-finite samples are ignored. */
    RobustEwma update(double x) {
        if (!Double.isFinite(x)) {
            return this;
        }
        if (count < WARMUP) {
            double[] w = Arrays.copyOf(warmup, warmup.length + 1);
            w[w.length - 1] = x;
            double median = median(w);
            double s = w.length < 3 ? INITIAL_SCALE : Math.max(MIN_SCALE, meanAbsDeviation(w, median));
            return new RobustEwma(median, s, count + 1, count + 1 == WARMUP ? EMPTY.warmup : w);
        }
        double alpha = Math.max(MIN_ALPHA, 1.0 / (count + 1));
        double residual = x - mean;
        double bound = CLIP * scale;
        double step = Math.max(-bound, Math.min(bound, residual));
        double nextScale = Math.max(MIN_SCALE, (1 - alpha) * scale + alpha * Math.min(Math.abs(residual), bound));
        return new RobustEwma(mean + alpha * step, nextScale, count + 1, warmup);
    }

    double mean() {
        return mean;
    }

    /** Typical absolute deviation of a sample from the mean. */
    double scale() {
        return scale;
    }

    long count() {
        return count;
    }

    boolean isEmpty() {
        return count == 0;
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return (n & 1) == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double meanAbsDeviation(double[] values, double centre) {
        double sum = 0;
        for (double v : values) {
            sum += Math.abs(v - centre);
        }
        return sum / values.length;
    }

    @Override
    public String toString() {
        return "RobustEwma[mean=" + mean + " scale=" + scale + " n=" + count + "]";
    }
}

package io.ollamabalancer.schedule;

/**
 * How good the per-request predictions are, measured online, as a weight between two predictors of a request's
 * (remaining) service time: the <em>specific</em> one (the learned length distribution truncated at the cap, and
 * conditioned on what has already elapsed) and the <em>generic</em> one (the model's mean length within the cap,
 * memoryless), which is what speed-aware shortest-expected-delay assumes. The weight is the inverse-mean-squared-error combination of the two,
 * {@code w = mse(generic) / (mse(specific) + mse(generic))}, over log errors: 1 trusts the specific predictions
 * fully, 0 falls back to SED.
 *
 * <p>Only predictions that differ by more than 10 % say anything about which predictor is better, so only those
 * are learned from; the prior gives {@code w = 0.8}. Thread-safe: writers synchronise, {@link #weight} is a
 * volatile read.
 */
final class PredictionQuality {
    private static final double ALPHA = 0.05;
    private static final double MAX_SQUARED = 9.0;
    private static final double INFORMATIVE = Math.log(1.1);

    private double specificMse = 0.25;
    private double genericMse = 1.0;
    private volatile double weight = 0.8;

    /** One comparison: what each predictor said, and what happened. */
    synchronized void record(long specificNanos, long genericNanos, long actualNanos) {
        if (specificNanos <= 0 || genericNanos <= 0 || actualNanos <= 0) {
            return;
        }
        if (Math.abs(Math.log((double) specificNanos / genericNanos)) < INFORMATIVE) {
            return;
        }
        double es = Math.min(MAX_SQUARED, square(Math.log((double) actualNanos / specificNanos)));
        double eg = Math.min(MAX_SQUARED, square(Math.log((double) actualNanos / genericNanos)));
        specificMse += ALPHA * (es - specificMse);
        genericMse += ALPHA * (eg - genericMse);
        weight = genericMse / (specificMse + genericMse);
    }

    double weight() {
        return weight;
    }

    private static double square(double x) {
        return x * x;
    }
}

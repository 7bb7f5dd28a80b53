package io.ollamabalancer.metrics;

/**
 * A learned speed of one model on one backend, as the scheduler's estimator knows it, for {@code /metrics} and
 * {@code /balancer/status}. Immutable. A speed not learned yet is {@link Double#NaN} (or not positive) and is left
 * out of the output.
 *
 * @param backend                the backend's name
 * @param model                  the model key
 * @param decodeTokensPerSecond  generated tokens per second (eval) of a stream running alone
 * @param slowdown               β: with k streams running, each decodes at the single-stream rate ÷ (1 + β (k − 1))
 * @param prefillTokensPerSecond prompt tokens per second (prompt eval)
 * @param samples                how many completed requests the figures rest on
 */
public record SpeedSample(String backend, String model, double decodeTokensPerSecond, double slowdown,
                          double prefillTokensPerSecond, long samples) {

    /** Whether a figure was learned (positive and finite; NaN means not yet). */
    public static boolean known(double tokensPerSecond) {
        return tokensPerSecond > 0 && !Double.isInfinite(tokensPerSecond);
    }
}

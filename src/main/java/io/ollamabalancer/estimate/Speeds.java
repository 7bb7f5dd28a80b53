package io.ollamabalancer.estimate;

/**
 * The speeds {@link CostModel} predicts for one model on one backend, and what a request costs there. Immutable.
 *
 * @param prefillTps prompt tokens per second
 * @param decodeTps  generated tokens per second for a single stream alone on the backend
 * @param slowdown   β: with k streams running, each decodes at {@code decodeTps / (1 + β (k − 1))}
 * @param loadNanos  a cold load of the model there
 * @param samples    responses this backend × model has been learned from (0: all borrowed or assumed)
 * @param source     where the figures came from
 */
public record Speeds(double prefillTps, double decodeTps, double slowdown, long loadNanos, long samples,
                     Source source) {

    /** Where predicted speeds come from, best first. */
    public enum Source {
        /** Learned from this backend's own responses for this model (blended with the prior while few). */
        LEARNED,
        /** Nothing learned here yet: what other replicas of the cluster learned of this backend × model. */
        SHARED,
        /** The fleet's average for the model, scaled by this backend's relative speed. */
        FLEET,
        /** Nothing learned for the model anywhere: the configured hints. */
        HINT
    }

    /** Per-stream decode speed with {@code concurrency} streams (this one included) on the backend. */
    public double decodeTps(int concurrency) {
        return decodeTps / (1 + slowdown * Math.max(0, concurrency - 1));
    }

    public long prefillNanos(int promptTokens) {
        return (long) (promptTokens / prefillTps * 1e9);
    }

    public long decodeNanos(double outputTokens, int concurrency) {
        return (long) (outputTokens / decodeTps(concurrency) * 1e9);
    }

    /** Time from dispatch to end: load (when cold), prefill, decode at {@code concurrency}. */
    public long serviceNanos(int promptTokens, double outputTokens, int concurrency, boolean cold) {
        return (cold ? loadNanos : 0) + prefillNanos(promptTokens) + decodeNanos(outputTokens, concurrency);
    }

    /** Throughput of a backend with {@code slots} streams relative to one stream: {@code k / (1 + β (k − 1))}. */
    public double parallelGain(int slots) {
        return slots / (1 + slowdown * Math.max(0, slots - 1));
    }
}

package io.ollamabalancer.estimate;

/**
 * The timing fields Ollama puts in a response's final chunk ({@code done:true}), read on the way through by the
 * relay. Durations are nanoseconds; a field Ollama omitted (omitempty) is 0. Immutable.
 */
public record TimingSample(
        long promptEvalCount,
        long promptEvalDurationNs,
        long evalCount,
        long evalDurationNs,
        long loadDurationNs,
        long totalDurationNs) {

    public static final TimingSample EMPTY = new TimingSample(0, 0, 0, 0, 0, 0);

    public boolean hasDecode() {
        return evalCount > 0 && evalDurationNs > 0;
    }

    public boolean hasPrefill() {
        return promptEvalCount > 0 && promptEvalDurationNs > 0;
    }
}

package io.ollamabalancer.sim;

import java.time.Instant;

/**
 * The end of one generation as Ollama reports it; all durations in nanoseconds. Immutable (the arrays are not copied;
 * nobody mutates them after construction).
 *
 * @param createdAt        wall time of the final object
 * @param text             the whole answer (only used by non-streaming replies)
 * @param doneReason       {@code stop}, {@code length}, {@code load} or {@code unload}
 * @param promptEvalCount  prompt tokens
 * @param evalCount        generated tokens
 * @param context          prompt + answer token ids for generate's {@code context}, or null
 */
record GenerationOutcome(Instant createdAt, String text, String doneReason, int promptEvalCount, long totalNanos,
                         long loadNanos, long promptEvalNanos, int evalCount, long evalNanos, int[] context) {

    /** A load/unload reply: no text, no metrics. */
    static GenerationOutcome special(Instant createdAt, String doneReason) {
        return new GenerationOutcome(createdAt, "", doneReason, 0, 0, 0, 0, 0, 0, null);
    }
}

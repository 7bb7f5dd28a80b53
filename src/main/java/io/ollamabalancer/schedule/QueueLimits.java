package io.ollamabalancer.schedule;

/**
 * Admission limits of one model's queue. Past them the client gets Ollama's 503 "server busy" with a
 * {@code Retry-After}. Immutable.
 *
 * @param maxDepth     waiting requests at most; a request arriving to a full queue is refused at once
 * @param maxWaitNanos a request still waiting after this long is refused
 */
public record QueueLimits(int maxDepth, long maxWaitNanos) {
    public QueueLimits {
        if (maxDepth < 0 || maxWaitNanos <= 0) {
            throw new IllegalArgumentException("queue limits must be positive: " + maxDepth + ", " + maxWaitNanos);
        }
    }
}

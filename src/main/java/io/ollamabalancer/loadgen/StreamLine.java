package io.ollamabalancer.loadgen;

/**
 * What the load generator needs from one NDJSON line of an Ollama stream. Immutable.
 *
 * @param createdAtNanos {@code created_at} in nanoseconds since the epoch, or {@link #NO_TIME} when absent
 * @param done           {@code "done": true}
 * @param error          the {@code "error"} message, or null
 */
public record StreamLine(long createdAtNanos, boolean done, String error) {
    public static final long NO_TIME = Long.MIN_VALUE;

    public boolean hasCreatedAt() {
        return createdAtNanos != NO_TIME;
    }
}

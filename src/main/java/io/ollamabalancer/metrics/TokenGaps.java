package io.ollamabalancer.metrics;

/**
 * Where one response's token gaps go: the series it counts in, resolved once ({@link RequestObserver#tokenGaps})
 * when the response starts streaming, so the relay does no lookup per chunk. Thread-safe; holds no buffers.
 */
@FunctionalInterface
public interface TokenGaps {
    /** Records nothing. */
    TokenGaps NONE = gapNanos -> {
    };

    /** The time since the previous chunk, as written to the client; negative values are ignored. */
    void record(long gapNanos);
}

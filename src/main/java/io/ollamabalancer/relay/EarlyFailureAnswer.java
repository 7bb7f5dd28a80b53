package io.ollamabalancer.relay;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;

/**
 * What the client is answered when its backend failed before any response byte and nothing retries it: the status,
 * the Ollama-style message, the {@code Retry-After}, and whether the outcome counts as the backend's failure. One rule
 * for every exchange: the balancer's own connection bound is its own 503 (try again shortly, not an upstream
 * failure), a first-byte deadline is a 504, anything else a 502 naming the backend. Immutable.
 */
record EarlyFailureAnswer(int status, String message, long retryAfterSeconds, boolean backendFailed) {
    static EarlyFailureAnswer of(FailureKind kind, Backend backend, String why) {
        return switch (kind) {
            case POOL_EXHAUSTED -> new EarlyFailureAnswer(503, why, 1, false);
            case FIRST_BYTE_TIMEOUT ->
                    new EarlyFailureAnswer(504, "backend '" + backend.name() + "' timed out: " + why, 0, true);
            default -> new EarlyFailureAnswer(502, "backend '" + backend.name() + "' failed: " + why, 0, true);
        };
    }
}

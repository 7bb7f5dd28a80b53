package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

/**
 * Where the scheduler hands a request once it decided. Implementations are called from any thread and must hop to
 * their own event loop themselves; each {@link PendingRequest} gets exactly one of these calls (or none when it
 * was cancelled first).
 */
public interface DispatchTarget {

    /** A slot on {@code backend} was taken for this request: send it there, and release the slot when done. */
    void dispatch(Backend backend);

    /**
     * The request will not run: answer the client.
     *
     * @param status            HTTP status Ollama would use (404 unknown model, 503 busy or no backend)
     * @param message           the text for Ollama's {@code {"error": …}} body
     * @param retryAfterSeconds a {@code Retry-After} value, or 0 for none
     */
    void reject(int status, String message, long retryAfterSeconds);
}

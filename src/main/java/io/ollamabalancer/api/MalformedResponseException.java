package io.ollamabalancer.api;

/**
 * A backend answered an aggregate endpoint ({@code /api/tags}, {@code /api/ps}, {@code /api/version},
 * {@code /v1/models}) with something that is not the JSON shape Ollama sends. Unchecked: the merges in
 * {@link FleetResponses} catch it and skip that backend; callers of the {@code parse*} methods decide themselves
 * (a health poller would count it as a failed poll). Immutable.
 */
public final class MalformedResponseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MalformedResponseException(String message) {
        super(message);
    }

    public MalformedResponseException(String message, Throwable cause) {
        super(message, cause);
    }
}

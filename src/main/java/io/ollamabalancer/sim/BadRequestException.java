package io.ollamabalancer.sim;

/**
 * A request the simulator answers with 400 and this message, as Ollama would. Stackless: it is control flow, not a
 * bug. Thrown and caught on the event loop.
 */
final class BadRequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Ollama's text for a missing or whitespace-only body. */
    static final String MISSING_BODY = "missing request body";

    private final boolean emptyBody;

    BadRequestException(String message) {
        this(message, false);
    }

    private BadRequestException(String message, boolean emptyBody) {
        super(message, null, false, false);
        this.emptyBody = emptyBody;
    }

    /** The body was empty; native endpoints say {@link #MISSING_BODY}, the /v1 middleware says {@code EOF}. */
    static BadRequestException missingBody() {
        return new BadRequestException(MISSING_BODY, true);
    }

    boolean emptyBody() {
        return emptyBody;
    }
}

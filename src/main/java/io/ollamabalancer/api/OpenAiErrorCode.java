package io.ollamabalancer.api;

/**
 * The {@code type} and {@code code} of OpenAI's error envelope for the refusals that OpenAI's own API also makes
 * (a bad key, a rate limit), so that a client checking {@code error.code} — not only the status, which the SDKs
 * map to their error classes — sees what it would see from OpenAI. Ollama has no such refusals (it has no keys),
 * so its middleware's status-derived type does not cover them. Immutable constants.
 */
public enum OpenAiErrorCode {
    /** 401: a missing, unknown or malformed key. */
    INVALID_API_KEY("invalid_request_error", "invalid_api_key"),
    /** 429: over a requests-per-minute or concurrency limit. */
    REQUESTS_RATE_LIMIT("requests", "rate_limit_exceeded"),
    /** 429: over a tokens-per-minute limit. */
    TOKENS_RATE_LIMIT("tokens", "rate_limit_exceeded");

    private final String type;
    private final String code;

    OpenAiErrorCode(String type, String code) {
        this.type = type;
        this.code = code;
    }

    /** The envelope's {@code type}. */
    public String type() {
        return type;
    }

    /** The envelope's {@code code}. */
    public String code() {
        return code;
    }
}

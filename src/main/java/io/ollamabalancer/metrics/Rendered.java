package io.ollamabalancer.metrics;

import java.nio.charset.StandardCharsets;

/**
 * A rendered response body and its {@code Content-Type}, ready for the HTTP handler to wrap. Owns its byte array
 * (a fresh one per render; callers may wrap it without copying). Immutable by convention.
 */
public record Rendered(String contentType, byte[] body) {
    public static final String TEXT = "text/plain; charset=utf-8";
    public static final String JSON = "application/json";
    public static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

    public static Rendered text(String contentType, String body) {
        return new Rendered(contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }
}

package io.ollamabalancer.loadgen;

/** Why a request counts as failed; each failed request counts once, under the first reason seen. */
public enum ErrorKind {
    /** The response status was not 200. */
    STATUS("status"),
    /** A 200 stream carried an {@code {"error": ...}} line. */
    ERROR_LINE("errorLine"),
    /** A line was not a JSON object, or its {@code created_at} was malformed. */
    BAD_LINE("badLine"),
    /** The stream ended (or the connection closed) without a {@code "done": true} line. */
    INCOMPLETE("incomplete"),
    /** The request did not finish within the per-request timeout, or the run was stopped while it was running. */
    TIMEOUT("timeout"),
    /** The connection could not be opened. */
    CONNECT("connect");

    private final String jsonName;

    ErrorKind(String jsonName) {
        this.jsonName = jsonName;
    }

    /** The key in the JSON summary. */
    public String jsonName() {
        return jsonName;
    }
}

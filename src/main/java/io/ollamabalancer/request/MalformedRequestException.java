package io.ollamabalancer.request;

/**
 * A request body Ollama would refuse with {@code 400}; the message is the text Ollama itself would put in
 * {@code {"error":"..."}} (Go's {@code encoding/json} wording for syntax and type errors, or
 * {@code missing request body}). Immutable; stackless, because a bad body is a client error, not a bug, and
 * may arrive at request rate.
 */
public final class MalformedRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedRequestException(String message) {
        super(message, null, false, false);
    }
}

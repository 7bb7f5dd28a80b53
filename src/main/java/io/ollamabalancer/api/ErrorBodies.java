package io.ollamabalancer.api;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Error bodies in the shapes Ollama's clients expect: {@code {"error":"..."}} on the native API and OpenAI's
 * envelope on {@code /v1}, escaped like Go's encoder, plus the standard texts the balancer answers with itself.
 * Stateless and thread-safe; every call returns a fresh array the caller owns.
 */
public final class ErrorBodies {
    /** Ollama's 503 when its queue is full; note the two spaces. */
    public static final String SERVER_BUSY = "server busy, please try again.  maximum pending requests exceeded";
    /** The balancer's 503 when no backend is healthy (Ollama has no such case, so this is the balancer's own). */
    public static final String NO_HEALTHY_BACKEND = "no healthy ollama backend available, please try again";
    /** gin's 405 body, sent as text/plain, for a known path with the wrong method. */
    public static final String METHOD_NOT_ALLOWED = "405 method not allowed";
    /** gin's 404 body, sent as text/plain, for an unknown path. */
    public static final String PAGE_NOT_FOUND = "404 page not found";

    private ErrorBodies() {
    }

    /** Ollama's 404 text for a model nobody has, with the name exactly as the client sent it. */
    public static String modelNotFound(String asSent) {
        return "model '" + (asSent == null ? "" : asSent) + "' not found";
    }

    /** {@code {"error":"<message>"}}. */
    public static byte[] ollama(String message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length() + 16);
        try (JsonGenerator g = GoJsonEscapes.FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory cannot fail
        }
        return out.toByteArray();
    }

    /**
     * {@code {"error":{"message":…,"type":…,"param":null,"code":null}}}, the type chosen from the status as
     * Ollama's OpenAI middleware does: 400 invalid_request_error, 404 not_found_error, anything else api_error.
     */
    public static byte[] openAi(int status, String message) {
        return openAi(status, message, null);
    }

    /**
     * OpenAI's envelope with the type and code of {@code known} when it is not null (a refusal OpenAI's API makes
     * too), else as {@link #openAi(int, String)}.
     */
    public static byte[] openAi(int status, String message, OpenAiErrorCode known) {
        String type = known != null ? known.type() : switch (status) {
            case 400 -> "invalid_request_error";
            case 404 -> "not_found_error";
            default -> "api_error";
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length() + 80);
        try (JsonGenerator g = GoJsonEscapes.FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeObjectFieldStart("error");
            g.writeStringField("message", message);
            g.writeStringField("type", type);
            g.writeNullField("param");
            if (known == null) {
                g.writeNullField("code");
            } else {
                g.writeStringField("code", known.code());
            }
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The error body in the shape of the endpoint's API family. */
    public static byte[] forEndpoint(Endpoint endpoint, int status, String message) {
        return forEndpoint(endpoint, status, message, null);
    }

    /** As {@link #forEndpoint(Endpoint, int, String)}, with OpenAI's type and code on {@code /v1} when known. */
    public static byte[] forEndpoint(Endpoint endpoint, int status, String message, OpenAiErrorCode known) {
        return endpoint.openAi() ? openAi(status, message, known) : ollama(message);
    }
}

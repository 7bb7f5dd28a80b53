package io.ollamabalancer.relay;

import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.backend.Backend;

/**
 * What both exchanges do alike with a backend's answer: count its status toward the backend's health, and turn a
 * part into what is written to the client. Stateless.
 */
final class UpstreamParts {
    private UpstreamParts() {
    }

    /**
     * A 5xx head counts against the backend's health (and is its last error) at once. Any other head counts for
     * it only when its response has ended ({@link #recordComplete}): a backend whose streams all die mid-way
     * answers every request with a 200 head, and counting that as a success reset the failure count each time, so
     * it was never ejected.
     */
    static void recordStatus(Backend backend, int status) {
        if (status >= 500) {
            backend.lastError("HTTP " + status + " from backend");
            backend.healthTracker().onRequestFailure("HTTP " + status);
        }
    }

    /** The backend's response with this status ended normally: a success unless its head was a 5xx. */
    static void recordComplete(Backend backend, int status) {
        recordComplete(backend, status, false);
    }

    /**
     * As {@link #recordComplete(Backend, int)}, for a response that may have carried an error object although its
     * head said 2xx: that is how Ollama reports a runner that failed mid-generation (the status line was sent
     * long before), so it counts against the backend like a stream that broke off.
     */
    static void recordComplete(Backend backend, int status, boolean errorInStream) {
        if (status < 300 && errorInStream) {
            backend.lastError("error in the response stream");
            backend.healthTracker().onRequestFailure("error in the response stream");
        } else if (status < 500) {
            backend.healthTracker().onRequestSuccess();
        }
    }

    /**
     * The part to write to the client once the head has been written: {@code msg} itself, or, when the decoder
     * produced a full response, only its body, since the whole object would be encoded as a second status line.
     * Takes ownership of {@code msg}; the caller owns the result.
     */
    static Object forClient(HttpObject msg, HttpContent content) {
        if (!(msg instanceof HttpResponse)) {
            return msg;
        }
        Object body = new DefaultLastHttpContent(content.content().retain());
        ReferenceCountUtil.release(msg);
        return body;
    }
}

package io.ollamabalancer.relay;

import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;

/**
 * What both exchanges do alike with a backend's answer: count its status toward the backend's health, and turn a
 * part into what is written to the client. Stateless.
 */
final class UpstreamParts {
    private UpstreamParts() {
    }

    /**
     * A 5xx head is noted as the backend's last error, but never counted against its health
     * ({@link FailureKind#ERROR_STATUS}): it is the backend's answer about this request (a pull of a model that does
     * not exist is Ollama's 500), and counting it let any client eject the fleet. Nothing counts for the backend
     * either until its response has ended ({@link #recordComplete}): a backend whose streams all die mid-way answers
     * every request with a 200 head, and counting that as a success reset the failure count each time.
     */
    static void recordStatus(Backend backend, int status) {
        if (status >= 500) {
            backend.lastError("HTTP " + status + " from backend");
        }
    }

    /**
     * The backend's response with this status ended normally. A generation whose 2xx stream carried an error object
     * ({@code errorInStream}: how Ollama reports a runner that failed mid-way, the status line having been sent long
     * before) counts like a stream that broke off ({@link FailureKind#ERROR_LINE}); a 5xx answer counts nothing
     * ({@link FailureKind#ERROR_STATUS}); anything else is a success. Callers pass {@code errorInStream} only for
     * generations: an error line in a pass-through stream (a pull of a missing model) is an answer, not a fault.
     */
    static void recordComplete(Backend backend, int status, boolean errorInStream) {
        if (status < 300 && errorInStream) {
            backend.lastError("error in the response stream");
            backend.healthTracker().onFailure(FailureKind.ERROR_LINE, "error in the response stream");
        } else if (status >= 500) {
            backend.healthTracker().onFailure(FailureKind.ERROR_STATUS, "HTTP " + status);
        } else {
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

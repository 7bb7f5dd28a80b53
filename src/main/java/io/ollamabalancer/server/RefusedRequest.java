package io.ollamabalancer.server;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.api.ErrorBodies;
import io.ollamabalancer.api.RouteTable;
import io.ollamabalancer.relay.Responses;

/**
 * A request the front door refused before it reached the router (a head the codec could not decode, a body over
 * {@code --max-body} or over the memory budget, a foreign origin, a CORS preflight, a read deadline missed), standing
 * in its place in the connection's order of requests. Every handler that refuses fires one of these down the
 * pipeline instead of writing an answer itself, so that {@link ClientRequestHandler} answers it in its turn: after
 * the answers to the requests pipelined before it, never in their middle, and a refusal that closes the connection
 * closes it only after those were written.
 *
 * <p>Describes its answer: the status, an error message (sent in the endpoint's error shape; {@code null} sends an
 * empty body), extra headers, and whether the connection closes after it. Immutable once fired. Owns only an empty
 * buffer.
 */
final class RefusedRequest extends DefaultFullHttpRequest {
    /** The endpoint label of a refusal whose head could not be read. */
    static final String UNKNOWN_ENDPOINT = "unknown";

    private final int status;
    private final String message;
    private final Endpoint endpoint;
    private final boolean close;
    private final HttpHeaders answerHeaders = new DefaultHttpHeaders();
    private final long arrivalNanos = System.nanoTime();

    private RefusedRequest(int status, String message, Endpoint endpoint, boolean close) {
        super(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", Unpooled.EMPTY_BUFFER);
        this.status = status;
        this.message = message;
        this.endpoint = endpoint;
        this.close = close;
    }

    /** Refuses with {@code {"error": message}} and closes the connection after the answer. */
    static RefusedRequest closing(int status, String message, HttpRequest head) {
        return new RefusedRequest(status, message, endpointOf(head), true);
    }

    /** Refuses with {@code {"error": message}}; the connection stays open (the request's body is dropped). */
    static RefusedRequest keeping(int status, String message, HttpRequest head) {
        return new RefusedRequest(status, message, endpointOf(head), false);
    }

    /** Refuses with an empty body (CORS answers, as Ollama sends them); the connection stays open. */
    static RefusedRequest empty(int status, HttpRequest head) {
        return new RefusedRequest(status, null, endpointOf(head), false);
    }

    private static Endpoint endpointOf(HttpRequest head) {
        return head == null ? null : RouteTable.match(head.method().name(), head.uri()).endpoint();
    }

    int status() {
        return status;
    }

    String message() {
        return message;
    }

    /** Whether the connection closes after the answer (the rest of what the client sends cannot be trusted). */
    boolean closes() {
        return close;
    }

    /** Headers the answer carries besides the usual ones (CORS, {@code Retry-After}); add before firing. */
    HttpHeaders answerHeaders() {
        return answerHeaders;
    }

    /** When the refusal was made, for the request's total time in the access log. */
    long arrivalNanos() {
        return arrivalNanos;
    }

    /** The label of the endpoint it was meant for, {@value #UNKNOWN_ENDPOINT} when its head could not be read. */
    String endpointLabel() {
        return endpoint == null ? UNKNOWN_ENDPOINT : endpoint.label();
    }

    /** The answer to write; the caller owns it. */
    FullHttpResponse answer() {
        byte[] body = message == null ? new byte[0]
                : endpoint == null ? ErrorBodies.ollama(message) : ErrorBodies.forEndpoint(endpoint, status, message);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body));
        if (body.length > 0) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, Responses.JSON);
        }
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        r.headers().add(answerHeaders);
        if (close) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }
}

package io.ollamabalancer.server;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A request whose head could not be decoded, standing in its place in the connection's order of requests so that
 * its error answer ({@link #status()}, {@link #message()}) goes out after the answers to the requests pipelined
 * before it, never in their middle. Made by {@link MalformedRequestHandler}, answered by {@link ClientRequestHandler}.
 * Owns only an empty buffer.
 */
final class RefusedRequest extends DefaultFullHttpRequest {
    private final int status;
    private final String message;

    RefusedRequest(int status, String message) {
        super(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", Unpooled.EMPTY_BUFFER);
        this.status = status;
        this.message = message;
    }

    int status() {
        return status;
    }

    String message() {
        return message;
    }
}

package io.ollamabalancer.upstream;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

import java.util.function.Consumer;

/**
 * Sends a request the balancer makes itself (a model-list poll, a fanned-out load, a fleet model operation) on a
 * lent connection: a small JSON body or none, then the first read of the answer. Stateless. Call on the
 * connection's event loop; the body array is wrapped, and the request's buffer passes to the channel.
 */
public final class SmallRequests {
    private SmallRequests() {
    }

    /**
     * @param uri    the path as the backend serves it (its path prefix included)
     * @param json   the body, or null for none
     * @param accept the {@code Accept} header
     * @param failed called (on the loop) if the request could not be written
     */
    public static void send(UpstreamConnection conn, HttpMethod method, String uri, byte[] json, String accept,
                            Consumer<Throwable> failed) {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri,
                json == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(json));
        req.headers().set(HttpHeaderNames.HOST, conn.backend().config().hostHeader());
        req.headers().set(HttpHeaderNames.ACCEPT, accept);
        if (json != null) {
            req.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            req.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, json.length);
        }
        conn.channel().writeAndFlush(req).addListener(w -> {
            if (w.isSuccess()) {
                conn.channel().read();
            } else {
                failed.accept(w.cause());
            }
        });
    }
}

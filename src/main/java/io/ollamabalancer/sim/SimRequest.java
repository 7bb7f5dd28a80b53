package io.ollamabalancer.sim;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

/**
 * One received request, copied out of Netty's buffers so it can wait (pipelined) or be re-read without reference
 * counting. Immutable.
 *
 * @param method the HTTP method
 * @param path   the decoded path without query string
 * @param host   the Host header, or null
 * @param body   the body bytes (possibly empty)
 */
record SimRequest(HttpMethod method, String path, String host, byte[] body) {

    /** Copies what the simulator needs; the caller still owns (and releases) {@code req}. */
    static SimRequest of(FullHttpRequest req) {
        String path = new QueryStringDecoder(req.uri()).path();
        return new SimRequest(req.method(), path, req.headers().get(HttpHeaderNames.HOST),
                ByteBufUtil.getBytes(req.content()));
    }

    boolean isHead() {
        return HttpMethod.HEAD.equals(method);
    }
}

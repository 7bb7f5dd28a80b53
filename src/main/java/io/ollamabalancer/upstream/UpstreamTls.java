package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * How to reach one {@code https://} backend: the shared client context and the URL's host and port, which the
 * handler sends as SNI and checks the certificate against. Immutable.
 */
record UpstreamTls(SslContext context, String host, int port) {

    SslHandler newHandler(ByteBufAllocator alloc) {
        // URI hosts keep an IPv6 literal's brackets; the engine wants the bare address (and sends no SNI for it).
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return context.newHandler(alloc, bare, port);
    }
}

/**
 * TLS material: the server's certificate and key (read from PEM, reloaded when the files change, handed out as
 * the {@link io.netty.handler.ssl.SslContext} for each new connection) and the client context for {@code https://}
 * backends (the system's trust store or a CA bundle). Which engine does the work: OpenSSL (BoringSSL, through
 * netty-tcnative) where it loads, the JDK's provider otherwise. Depends on config and metrics only; the server and
 * the upstream pools put the handlers into their pipelines.
 */
package io.ollamabalancer.tls;

package io.ollamabalancer.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.TimeUnit;

/**
 * Builds every upstream channel's pipeline, and is the only place that orders it:
 * <pre>
 * tls     SslHandler                (https:// backends) bytes ⇄ TLS records; SNI and host name check against
 *                                   the URL's host
 * raw     RawBodySplitter           (armed per exchange) a chunked body's data chunks past the codec, raw,
 *                                   to the relay handler; heads and the last chunk to the codec
 * codec   HttpClientCodec           bytes ⇄ HttpObject; remembers request methods so HEAD answers parse
 * idle    IdleStateHandler          fires after the pooled-idle timeout without reads (acted on only while
 *                                   unused)
 * relay   UpstreamResponseHandler   hands parts to the attached exchange, or releases them
 * </pre>
 * Stateless and {@code @Sharable} in effect (a new handler set per channel).
 */
final class UpstreamChannelInitializer extends ChannelInitializer<Channel> {
    static final String RELAY = "relay";
    private static final int MAX_INITIAL_LINE = 8192;
    private static final int MAX_HEADERS = 64 * 1024;

    static final String TLS = "tls";

    private final long idleMillis;
    private final UpstreamTls tls;

    /** @param tls how to reach an {@code https://} backend, or {@code null} for plain HTTP */
    UpstreamChannelInitializer(long idleMillis, UpstreamTls tls) {
        this.idleMillis = idleMillis;
        this.tls = tls;
    }

    @Override
    protected void initChannel(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        if (tls != null) {
            p.addLast(TLS, tls.newHandler(ch.alloc()));
        }
        UpstreamResponseHandler relay = new UpstreamResponseHandler();
        p.addLast("raw", relay.splitter());
        p.addLast("codec", new HttpClientCodec(MAX_INITIAL_LINE, MAX_HEADERS, 64 * 1024));
        // Reads only: a channel goes back to the pool only after its response's last byte was read, so the time since
        // the last read is the time it sat idle; watching writes too (all-idle) put a listener on every request.
        p.addLast("idle", new IdleStateHandler(idleMillis, 0, 0, TimeUnit.MILLISECONDS));
        p.addLast(RELAY, relay);
    }
}

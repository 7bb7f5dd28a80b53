package io.ollamabalancer.sim;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.TimeUnit;

/**
 * The simulator's pipeline, in order:
 * <table>
 *   <caption>handlers</caption>
 *   <tr><th>handler</th><th>consumes → emits</th><th>releases</th></tr>
 *   <tr><td>SslHandler (only with a certificate)</td><td>TLS records ↔ bytes</td><td>its own buffers</td></tr>
 *   <tr><td>HttpServerCodec</td><td>bytes ↔ HttpObjects</td><td>its own buffers</td></tr>
 *   <tr><td>{@link SimBlobHandler}</td><td>serves {@code /api/blobs/:digest}, hashing upload bodies part by part,
 *       with its own keep-alive policy; passes everything else on</td><td>the blob requests' parts</td></tr>
 *   <tr><td>HttpServerKeepAliveHandler</td><td>sets/obeys {@code Connection}, closes after a non-keep-alive
 *       response</td><td>–</td></tr>
 *   <tr><td>IdleStateHandler (only with {@code idleTimeoutMillis})</td><td>an idle event after that long without
 *       a read or write</td><td>–</td></tr>
 *   <tr><td>HttpObjectAggregator</td><td>HttpObjects → FullHttpRequest (64 MiB max; 413 beyond)</td><td>parts</td></tr>
 *   <tr><td>{@link SimConnectionHandler}</td><td>FullHttpRequest → exchanges</td><td>the request, after copying</td></tr>
 * </table>
 * Shared by all child channels of one simulator; stateless apart from its references.
 */
final class SimChannelInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_BODY = 64 * 1024 * 1024;

    private final SimContext sim;
    private final SimRouter router;
    private final ChannelGroup children;
    private final SslContext tls;

    /** @param tls the server context when the simulator serves HTTPS, else {@code null} */
    SimChannelInitializer(SimContext sim, SimRouter router, ChannelGroup children, SslContext tls) {
        this.sim = sim;
        this.router = router;
        this.children = children;
        this.tls = tls;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        children.add(ch);
        ChannelPipeline p = ch.pipeline();
        if (tls != null) {
            p.addLast("tls", tls.newHandler(ch.alloc()));
        }
        p.addLast("codec", new HttpServerCodec());
        p.addLast("blobs", new SimBlobHandler(sim));
        p.addLast("keepAlive", new HttpServerKeepAliveHandler());
        long idle = sim.config().idleTimeoutMillis();
        if (idle > 0) {
            p.addLast("idle", new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
        }
        p.addLast("aggregator", new HttpObjectAggregator(MAX_BODY));
        p.addLast("sim", new SimConnectionHandler(sim, router));
    }
}

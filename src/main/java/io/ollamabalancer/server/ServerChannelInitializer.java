package io.ollamabalancer.server;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.ollamabalancer.config.BalancerConfig;

import java.util.concurrent.TimeUnit;

/**
 * The one place that orders the client-facing pipeline:
 * <pre>
 * name        handler                      consumes → emits                       buffers
 * linger      LingeringCloseHandler        a close after an early answer: shuts    drops what arrives while
 *                                          output, drains input, closes ≤ 500 ms   it lingers
 * codec       HttpServerCodec              bytes → HttpRequest/HttpContent         decodes; encodes responses
 * keepalive   HttpServerKeepAliveHandler   tracks keep-alive, closes after last    passes through
 * drain       DrainHandler                 counts open requests; while draining    passes through
 *                                          marks responses Connection: close;
 *                                          closes idle / aborts at grace end
 * malformed   MalformedRequestHandler      a head the codec refused → RefusedRequest releases the refused head;
 *                                          (431/414/400, answered in its turn)
 * idle        IdleStateHandler             fires IdleStateEvent                    none
 * idle-close  ClientIdleHandler            closes idle connections between requests none
 * cors        CorsHandler                  answers preflights, refuses foreign origins releases what it answers
 * aggregate   BodyLimitAggregator          parts → FullHttpRequest (413 past limit) owns parts until emitted;
 *                                          streamed routes (blob uploads) pass on   their parts pass through
 *                                          unaggregated, unlimited
 * request     ClientRequestHandler         FullHttpRequest → RequestRouter;         ownership to the router;
 *                                          streamed head → RequestRouter, its       each part to the exchange
 *                                          parts → the exchange, paced by reads
 * </pre>
 * Shared by all client channels (stateless; a new handler set per channel).
 */
final class ServerChannelInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_INITIAL_LINE = 16 * 1024;

    private final BalancerConfig config;
    private final RequestRouter router;
    private final CorsPolicy cors;
    private final ClientConnections connections;

    ServerChannelInitializer(BalancerConfig config, RequestRouter router, ClientConnections connections) {
        this.config = config;
        this.router = router;
        this.cors = CorsPolicy.of(config.corsOrigins());
        this.connections = connections;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ChannelPipeline p = ch.pipeline();
        p.addLast("linger", new LingeringCloseHandler());
        p.addLast("codec", new HttpServerCodec(MAX_INITIAL_LINE, config.maxHeaderBytes(), 64 * 1024));
        p.addLast("keepalive", new HttpServerKeepAliveHandler());
        p.addLast("drain", new DrainHandler(connections));
        p.addLast("malformed", new MalformedRequestHandler(config.maxHeaderBytes()));
        p.addLast("idle", new IdleStateHandler(0, 0, config.clientIdleTimeout().toMillis(), TimeUnit.MILLISECONDS));
        p.addLast("idle-close", ClientIdleHandler.INSTANCE);
        p.addLast("cors", new CorsHandler(cors));
        p.addLast("aggregate", new BodyLimitAggregator(config.maxBodyBytes()));
        p.addLast("request", new ClientRequestHandler(router));
    }
}

package io.ollamabalancer.server;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.tls.ServerTls;

import java.util.concurrent.TimeUnit;

/**
 * The one place that orders the client-facing pipeline:
 * <pre>
 * name        handler                      consumes → emits                       buffers
 * tls         TlsSniffer, then SslHandler  (HTTPS only) first bytes: a TLS record   holds a record header until
 *                                          → becomes the SslHandler of the         it decides; the SslHandler
 *                                          certificate in force; plain HTTP → 400  owns what it decrypts until
 *                                          and close; bytes ⇄ TLS records          passed on
 * tls-events  TlsHandshakes                (HTTPS only) counts handshakes; TLS     none
 *                                          failures logged at DEBUG, closed
 * linger      LingeringCloseHandler        a close after an early answer: shuts    drops what arrives while
 *                                          output, drains input, closes ≤ 500 ms   it lingers
 * read-bytes  RequestReadDeadlines.bytes   notes when bytes arrive (a head's       drops bytes after a missed
 *                                          first byte)                            deadline
 * codec       HttpServerCodec              bytes → HttpRequest/HttpContent         decodes; encodes responses
 * keepalive   HttpServerKeepAliveHandler   tracks keep-alive, closes after last    passes through
 * drain       DrainHandler                 counts open requests; while draining    passes through
 *                                          marks responses Connection: close;
 *                                          closes idle / aborts at grace end
 * http10      Http10Responses              a streamed answer to HTTP/1.0: raw,     passes through
 *                                          not chunked, then close
 * read-msgs   RequestReadDeadlines.messages heads/bodies late → RefusedRequest     none
 *                                          (408: --header-/--body-read-timeout)
 * malformed   MalformedRequestHandler      a head the codec refused → Refused-     releases the refused head
 *                                          Request (431/414/400); CONNECT and      and dropped body parts
 *                                          absolute-form targets → 405/400
 * idle        IdleStateHandler             fires IdleStateEvent (reads only)       none
 * idle-close  ClientIdleHandler            closes connections idle between          none
 *                                          requests for the whole timeout
 * cors        CorsHandler                  preflights (204), foreign origins (403) releases what it refuses
 *                                          → RefusedRequest
 * aggregate   BodyLimitAggregator          parts → AggregatedRequest within        owns parts until emitted;
 *                                          --max-body (413) and the body budget    their parts pass through
 *                                          (503) → RefusedRequest; streamed routes
 *                                          (blob uploads) pass on unaggregated
 * request     ClientRequestHandler         runs requests one at a time, in order,  ownership to the router;
 *                                          refusals included, through the router   each part to the exchange
 * </pre>
 * No handler but the last writes an answer to a request: every refusal goes down as a {@link RefusedRequest}, so
 * pipelined answers always leave in request order. A connection above {@code --max-client-connections} gets only
 * {@code linger} and the refusal of {@link ConnectionCap} (behind the TLS handlers on HTTPS, so the refusal is
 * readable: an {@code SslHandler} at once, which holds the answer until the handshake is done).
 * Shared by all client channels of one listener (a new handler set per channel); the {@link ClientLimits} are shared
 * by every listener.
 */
final class ServerChannelInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_INITIAL_LINE = 16 * 1024;

    private final BalancerConfig config;
    private final RequestRouter router;
    private final CorsPolicy cors;
    private final ClientLimits limits;
    private final ClientConnections connections;
    private final ServerTls tls;

    /** @param tls the listener's HTTPS, or {@code null} for plain HTTP */
    ServerChannelInitializer(BalancerConfig config, RequestRouter router, ClientLimits limits,
                             ClientConnections connections, ServerTls tls) {
        this.config = config;
        this.router = router;
        this.cors = CorsPolicy.of(config.corsOrigins());
        this.limits = limits;
        this.connections = connections;
        this.tls = tls;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ChannelPipeline p = ch.pipeline();
        boolean admitted = limits.connections().admit(ch);
        if (tls != null) {
            p.addLast("tls", admitted ? new TlsSniffer(tls) : tls.newHandler(ch.alloc()));
            p.addLast("tls-events", new TlsHandshakes(tls));
        }
        p.addLast("linger", new LingeringCloseHandler());
        if (!admitted) {
            p.addLast("refuse", limits.connections().refusal());
            return;
        }
        RequestReadDeadlines deadlines = new RequestReadDeadlines(config.headerTimeout(), config.bodyReadTimeout());
        p.addLast("read-bytes", deadlines.bytes());
        p.addLast("codec", new HttpServerCodec(MAX_INITIAL_LINE, config.maxHeaderBytes(), 64 * 1024));
        p.addLast("keepalive", new HttpServerKeepAliveHandler());
        p.addLast("drain", new DrainHandler(connections));
        p.addLast("http10", new Http10Responses());
        p.addLast("read-msgs", deadlines.messages());
        p.addLast("malformed", new MalformedRequestHandler(config.maxHeaderBytes()));
        // Reads only: an all-idle handler would hook every write, and so every streamed chunk (see ClientIdleHandler).
        p.addLast("idle", new IdleStateHandler(config.clientIdleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
        p.addLast("idle-close", new ClientIdleHandler(config.clientIdleTimeout().toNanos()));
        p.addLast("cors", new CorsHandler(cors));
        p.addLast("aggregate", new BodyLimitAggregator(config.maxBodyBytes(), limits.bodies()));
        // A connection's waiting requests may hold one largest body between them.
        p.addLast("request", new ClientRequestHandler(router, config.maxBodyBytes()));
    }
}

package io.ollamabalancer.sim;

import io.netty.bootstrap.ServerBootstrap;
import io.ollamabalancer.tls.ServerCertificate;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A running simulated Ollama server on a real socket. {@link #start} binds and returns; {@link #close} stops it.
 *
 * <p>Threading: one dedicated Netty event loop (a daemon thread named {@code sim-<name>}) accepts, serves and paces
 * every connection, and owns all simulation state. The public methods are thread-safe. Buffers: every response
 * buffer is created and released on that loop; nothing crosses to callers.
 *
 * <pre>{@code
 * try (OllamaSimulator sim = OllamaSimulator.start(SimulatorConfig.builder().decodeTokensPerSecond(2000).build())) {
 *     URI uri = URI.create(sim.baseUrl() + "/api/generate");
 *     ...
 *     assertThat(sim.counters().served()).isEqualTo(1);
 * }
 * }</pre>
 */
public final class OllamaSimulator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OllamaSimulator.class);

    private final SimulatorConfig config;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final ChannelGroup children;
    private final ServerBootstrap bootstrap;
    private final SimCounters counters = new SimCounters();
    private final SimFaults faults = new SimFaults();
    private final BlobStore blobs = new BlobStore();
    private final SimContext context;
    private volatile Channel server;
    private volatile int port;
    private volatile boolean closed;

    private OllamaSimulator(SimulatorConfig config) {
        this.config = config;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("sim-" + config.name(), true),
                NioIoHandler.newFactory());
        this.loop = group.next();
        this.children = new DefaultChannelGroup("sim-" + config.name(), loop);
        this.context = new SimContext(config, loop, counters, faults, blobs);
        SimRouter router = new SimRouter(context, new ControlEndpoint(config.name()));
        this.bootstrap = new ServerBootstrap()
                .group(group, group)
                .channelFactory(ListeningChannel::new)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new SimChannelInitializer(context, router, children, config.tlsCert() == null ? null
                        : ServerCertificate.read(config.tlsCert(), config.tlsKey()).context()));
        faults.attach(this::accepting);
    }

    /**
     * Binds {@code config.host():config.port()} and starts serving.
     *
     * @throws IllegalStateException if the address cannot be bound
     */
    public static OllamaSimulator start(SimulatorConfig config) {
        OllamaSimulator sim = new OllamaSimulator(config);
        try {
            sim.bind(config.port());
        } catch (RuntimeException e) {
            sim.group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
        LOG.info("sim {} listening on {} ({} models, {} slots, {} tok/s decode)", config.name(), sim.baseUrl(),
                config.models().size(), config.slots(), config.decodeTokensPerSecond());
        return sim;
    }

    private void bind(int requestedPort) {
        ChannelFuture f = bootstrap.bind(new InetSocketAddress(config.host(), requestedPort)).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IllegalStateException("sim " + config.name() + ": cannot bind " + config.host() + ":"
                    + requestedPort, f.cause());
        }
        server = f.channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    /**
     * {@link SimFaults#refuseConnections}: close or reopen the listener. Off the loop this waits for the result and
     * is serialised; on the loop (an HTTP control call) it must not block, so it only starts the work.
     */
    private void accepting(boolean accept) {
        if (closed) {
            return;
        }
        if (loop.inEventLoop()) {
            if (accept) {
                listenAgain().addListener((ChannelFuture f) -> {
                    if (!f.isSuccess()) {
                        LOG.warn("sim {}: could not listen again on port {}: {}", config.name(), port,
                                f.cause().toString());
                    }
                });
            } else {
                stopListening();
            }
            return;
        }
        synchronized (this) {
            if (accept) {
                ChannelFuture f = listenAgain().awaitUninterruptibly();
                if (!f.isSuccess()) {
                    throw new IllegalStateException("sim " + config.name() + ": could not listen again on port "
                            + port, f.cause());
                }
            } else {
                Channel listening = server;
                loop.submit(this::stopListening).syncUninterruptibly();
                awaitReleased(listening);
            }
        }
    }

    /**
     * Returns once the closed listener's descriptor is really gone, so connects are refused from now on. Each empty
     * task wakes the selector, and a select is what finally closes a cancelled NIO socket.
     */
    private void awaitReleased(Channel listening) {
        if (!(listening instanceof ListeningChannel)) {
            return;
        }
        ListeningChannel l = (ListeningChannel) listening;
        for (int i = 0; i < 1000 && !l.released(); i++) {
            loop.submit(() -> { }).syncUninterruptibly();
        }
        if (!l.released()) {
            LOG.warn("sim {}: listening socket still open after close", config.name());
        }
    }

    private ChannelFuture listenAgain() {
        Channel s = server;
        if (s != null && s.isActive()) {
            return s.newSucceededFuture();
        }
        ChannelFuture f = bootstrap.bind(new InetSocketAddress(config.host(), port));
        f.addListener((ChannelFuture done) -> {
            if (done.isSuccess()) {
                server = done.channel();
            }
        });
        return f;
    }

    /** Runs on the loop: closes the listening socket and every accepted connection. */
    private void stopListening() {
        Channel s = server;
        server = null;
        if (s != null) {
            s.close();
        }
        children.close();
    }

    /** The bound port (stable across {@link SimFaults#refuseConnections} off/on). */
    public int port() {
        return port;
    }

    /** {@code http://host:port} ({@code https://} with TLS), with a wildcard bind address replaced by loopback. */
    public String baseUrl() {
        String host = config.host();
        if (host.equals("0.0.0.0") || host.equals("::") || host.isEmpty()) {
            host = "127.0.0.1";
        }
        if (NetUtil.isValidIpV6Address(host)) {
            host = "[" + host + "]";
        }
        return (config.tlsCert() == null ? "http://" : "https://") + host + ":" + port;
    }

    public SimulatorConfig config() {
        return config;
    }

    public SimCounters counters() {
        return counters;
    }

    public SimFaults faults() {
        return faults;
    }

    /**
     * Whether a blob with this digest was uploaded ({@code POST /api/blobs/:digest} hashed to it), in either of
     * Ollama's spellings ({@code sha256:<hex>} or {@code sha256-<hex>}).
     */
    public boolean hasBlob(String digest) {
        return blobs.has(digest);
    }

    /** Whether a model of this name is installed now (configured, or made by {@code /api/create}). */
    public boolean hasModel(String name) {
        try {
            return loop.submit(() -> context.catalog().find(name) != null).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("sim " + config.name() + ": model lookup failed", e);
        }
    }

    /** Closes the listener and every connection and stops the event loop; waits up to a few seconds. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (!loop.isShuttingDown()) {
            loop.submit(this::stopListening).awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        closed = true;
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        LOG.info("sim {} stopped: {}", config.name(), counters.toJson());
    }

    @Override
    public String toString() {
        return "OllamaSimulator[" + config.name() + " " + baseUrl() + "]";
    }
}

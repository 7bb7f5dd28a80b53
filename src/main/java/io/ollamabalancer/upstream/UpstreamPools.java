package io.ollamabalancer.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.Future;
import io.ollamabalancer.backend.Backend;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntUnaryOperator;

/**
 * Every {@link UpstreamPool}: one per backend per event loop, created on first use, and one {@link ConnectionBound}
 * per backend that they share. Thread-safe (concurrent maps); each pool itself is confined to its loop.
 */
public final class UpstreamPools {
    /**
     * Idle channels kept per loop and backend at least; beyond it, as many as the backend's connection bound allows.
     * A fixed 256 closed most of the channels a busy backend had open whenever its streams ended together: at 5,000
     * streams on four backends (1,250 slots each), passes of 15,000 requests opened 5,600-6,200 upstream connections
     * each, against 1,900-2,300 with the bound as the limit. Idle channels still close after the idle timeout.
     */
    private static final int MIN_IDLE_PER_LOOP = 256;

    private final Class<? extends Channel> channelClass;
    private final int connectTimeoutMillis;
    private final long idleMillis;
    private final IntUnaryOperator maxOpenForSlots;
    private final SslContext backendTls;
    private final Map<Backend, Map<EventLoop, UpstreamPool>> pools = new ConcurrentHashMap<>();
    private final Map<Backend, ConnectionBound> bounds = new ConcurrentHashMap<>();

    private final AddressResolverGroup<InetSocketAddress> resolver;

    /**
     * @param datagramClass     the UDP channel type matching {@code channelClass}'s transport, for non-blocking DNS
     * @param maxOpenForSlots   open connections to one backend at most, given its slots (its maxConcurrency)
     * @param backendTls        the client context for {@code https://} backends
     */
    public UpstreamPools(Class<? extends Channel> channelClass, Class<? extends DatagramChannel> datagramClass,
                         int connectTimeoutMillis, long idleMillis, IntUnaryOperator maxOpenForSlots,
                         SslContext backendTls) {
        this.channelClass = channelClass;
        // Host names are resolved asynchronously: InetAddress lookups would block an event loop.
        this.resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(datagramClass)
                .socketChannelType(channelClass.asSubclass(SocketChannel.class)));
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.idleMillis = idleMillis;
        this.maxOpenForSlots = maxOpenForSlots;
        this.backendTls = backendTls;
    }

    /**
     * Acquires a channel to {@code backend} for use on {@code loop}; must be called on {@code loop}. At the
     * backend's connection bound it waits (first come first served, up to the connect timeout) for a channel to come
     * free, then fails with {@link PoolExhaustedException}; cancelling the future gives up the wait.
     */
    public Future<UpstreamConnection> acquire(Backend backend, EventLoop loop) {
        return pool(backend, loop).acquire(false);
    }

    /**
     * As {@link #acquire}, but always a newly opened channel, never an idle one: the retry after a reused keep-alive
     * channel turned out to be closed by the backend (its idle siblings may be too).
     */
    public Future<UpstreamConnection> acquireFresh(Backend backend, EventLoop loop) {
        return pool(backend, loop).acquire(true);
    }

    /** Open channels to a backend, in use or idle (for metrics and tests). */
    public int openConnections(Backend backend) {
        ConnectionBound b = bounds.get(backend);
        return b == null ? 0 : b.open();
    }

    /** Acquires waiting at a backend's connection bound (for tests). */
    public int waitingAcquires(Backend backend) {
        ConnectionBound b = bounds.get(backend);
        return b == null ? 0 : b.waiting();
    }

    /** Idle channels to a backend across loops (approximate while loops run). */
    public int idleConnections(Backend backend) {
        Map<EventLoop, UpstreamPool> perLoop = pools.get(backend);
        if (perLoop == null) {
            return 0;
        }
        int n = 0;
        for (UpstreamPool p : perLoop.values()) {
            n += p.idleCount();
        }
        return n;
    }

    /** Stops the DNS resolvers (on shutdown, after the event loops). */
    public void close() {
        resolver.close();
    }

    /** Closes the idle channels to a backend (it left the fleet). In-use channels close when their exchange ends. */
    public void forget(Backend backend) {
        Map<EventLoop, UpstreamPool> perLoop = pools.remove(backend);
        if (perLoop != null) {
            perLoop.values().forEach(UpstreamPool::closeIdle);
        }
    }

    UpstreamPool pool(Backend backend, EventLoop loop) {
        return pools.computeIfAbsent(backend, b -> new ConcurrentHashMap<>())
                .computeIfAbsent(loop, l -> newPool(backend, l));
    }

    private UpstreamPool newPool(Backend backend, EventLoop loop) {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .resolver(resolver)
                .remoteAddress(InetSocketAddress.createUnresolved(backend.config().url().getHost(),
                        backend.config().port()))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                // Pull, don't push: the relay reads the next response part only when the client can take it.
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .handler(new UpstreamChannelInitializer(idleMillis,
                        backend.config().tls() ? new UpstreamTls(backendTls, backend.config().url().getHost(),
                                backend.config().port()) : null));
        ConnectionBound bound = bounds.computeIfAbsent(backend,
                x -> new ConnectionBound(maxOpenForSlots.applyAsInt(x.config().maxConcurrency())));
        return new UpstreamPool(backend, loop, b, bound, Math.max(MIN_IDLE_PER_LOOP, bound.max()),
                connectTimeoutMillis);
    }
}

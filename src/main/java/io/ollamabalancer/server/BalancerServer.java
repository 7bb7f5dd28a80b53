package io.ollamabalancer.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.ollamabalancer.auth.ApiKeys;
import io.ollamabalancer.auth.ApiKeysFile;
import io.ollamabalancer.auth.UsageDocument;
import io.ollamabalancer.fleetops.FleetAggregator;
import io.ollamabalancer.fleetops.FleetOperations;
import io.ollamabalancer.fleetops.ModelEnsurer;
import io.ollamabalancer.fleetops.ModelLoadFanout;
import io.ollamabalancer.backend.ModelAliases;
import io.ollamabalancer.config.FleetDeclarations;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BlobLocations;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.HealthListener;
import io.ollamabalancer.backend.HealthPolicy;
import io.ollamabalancer.backend.HealthProber;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.cluster.ClusterNode;
import io.ollamabalancer.config.BackendsFile;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.ConfigWatcher;
import io.ollamabalancer.backend.FleetChange;
import io.ollamabalancer.metrics.AccessLog;
import io.ollamabalancer.metrics.CompositeObserver;
import io.ollamabalancer.metrics.LatencyDump;
import io.ollamabalancer.metrics.LatencyRecorders;
import io.ollamabalancer.dashboard.ChartSampler;
import io.ollamabalancer.dashboard.DashboardData;
import io.ollamabalancer.dashboard.DashboardPage;
import io.ollamabalancer.metrics.LatencyReporter;
import io.ollamabalancer.metrics.ClusterStatus;
import io.ollamabalancer.metrics.PrometheusText;
import io.ollamabalancer.metrics.RequestObserver;
import io.ollamabalancer.metrics.StatusDocument;
import io.ollamabalancer.SuppressForbidden;
import io.ollamabalancer.relay.RelayContext;
import io.ollamabalancer.relay.RequestTracker;
import io.ollamabalancer.relay.RelayTimeouts;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.Prewarmer;
import io.ollamabalancer.schedule.Scheduling;
import io.ollamabalancer.metrics.SpeedSample;
import io.ollamabalancer.schedule.Scheduler;
import io.ollamabalancer.upstream.UpstreamFetcher;
import io.ollamabalancer.upstream.UpstreamPools;
import io.ollamabalancer.tls.ServerTls;
import io.ollamabalancer.tls.TlsContexts;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The running balancer: event loops, the listening socket, the fleet, the scheduler and the upstream pools.
 * Created by {@link #start}; stopped gracefully by {@link #shutdown} (what SIGTERM does: {@link GracefulShutdown}),
 * at once by {@link #close}. Thread-safe.
 */
public final class BalancerServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BalancerServer.class);

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel serverChannel;
    private final List<Channel> listeners;
    private final Fleet fleet;
    private final List<AutoCloseable> resources;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicBoolean released = new AtomicBoolean();
    private final GracefulShutdown drain;

    private BalancerServer(EventLoopGroup boss, EventLoopGroup workers, List<Channel> listeners, Fleet fleet,
                           List<AutoCloseable> resources, BalancerConfig config, ClientConnections connections,
                           Runnable stopBackground, Scheduler scheduler) {
        this.boss = boss;
        this.workers = workers;
        this.serverChannel = listeners.get(0);
        this.listeners = listeners;
        this.fleet = fleet;
        this.resources = resources;
        this.drain = new GracefulShutdown(config.shutdownDelay(), config.shutdownGrace(), connections, stopBackground,
                this::closeListeners, () -> queued(scheduler), this::release);
    }

    /**
     * Binds and starts serving; returns once the socket is bound and the first model poll ended (or timed out).
     *
     * @param config   process settings ({@code port} 0 binds an ephemeral port)
     * @param backends the fleet, already validated
     */
    @SuppressForbidden // start-up, on the caller's thread: waits for the bind and the first model poll
    public static BalancerServer start(BalancerConfig config, List<BackendConfig> backends)
            throws InterruptedException {
        // A malformed keys file stops start-up (ConfigException: one line, exit 2) before any thread starts.
        Path keysFile = config.apiKeysFile();
        ApiKeys keys = keysFile == null ? null : new ApiKeys(ApiKeysFile.load(keysFile), System::nanoTime);
        // So do TLS files that do not load (or only one of the pair), and a CA bundle for backends that does not.
        ServerTls tls = ServerTls.of(config);
        SslContext backendTls = TlsContexts.backends(config.backendCaFile());
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, io);
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(), io);
        Class<? extends ServerChannel> serverClass = epoll ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        Class<? extends Channel> clientClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        Class<? extends DatagramChannel> udpClass = epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;

        Fleet fleet = new Fleet(backends, HealthPolicy.defaults(), System::nanoTime);
        Scheduling scheduling = Scheduling.create(fleet, config, System::nanoTime);
        Scheduler scheduler = scheduling.scheduler();
        Supplier<List<SpeedSample>> speeds = () -> scheduling.costModel().snapshot().stream()
                .map(s -> new SpeedSample(s.backend(), s.model(), s.decodeTps(), s.slowdown(), s.prefillTps(),
                        s.samples()))
                .toList();
        UpstreamPools pools = new UpstreamPools(clientClass, udpClass, (int) config.connectTimeout().toMillis(),
                config.upstreamIdleTimeout().toMillis(), config::maxConnectionsFor, backendTls);
        UpstreamFetcher fetcher = new UpstreamFetcher(pools, workers, 5_000);
        ClientConnections connections = new ClientConnections();
        FleetMonitor monitor = new FleetMonitor(fleet, fetcher, scheduler);
        scheduler.prewarmer(config.prewarm()
                ? new ModelPreloader(fetcher, monitor::refreshLoaded, scheduler::drainAll, System::nanoTime)
                : Prewarmer.NONE);
        scheduler.coldDispatchListener(new LoadWatch(monitor::refreshLoaded, workers.next(), System::nanoTime));
        fleet.onRetired(pools::forget);
        Path file = config.backendsFile();
        boolean watched = file != null && Files.isRegularFile(file);
        int defaultSlots = config.defaultMaxConcurrency();
        FleetDeclarations declared = watched
                ? BackendsFile.load(file, file.getFileName().toString(), defaultSlots).declarations()
                : FleetDeclarations.NONE;
        ModelAliases aliases = new ModelAliases();
        aliases.replace(declared.aliases());
        ModelEnsurer ensurer = new ModelEnsurer(fleet, pools, workers.next(), monitor::refresh,
                declared.withFleetModels(config.ensureModels()), Duration.ofSeconds(5), Duration.ofMinutes(5),
                System::currentTimeMillis);
        java.util.concurrent.atomic.AtomicReference<ClusterNode> clusterRef = new java.util.concurrent.atomic.AtomicReference<>();
        HealthProber prober = new HealthProber(fleet, fetcher, System::nanoTime, new HealthListener() {
            @Override
            public void onEjected(Backend b, String why) {
                log.warn("backend {} ejected: {}", b.name(), why);
                Clustering.ejected(clusterRef.get(), b, why);
            }

            @Override
            public void onRecovered(Backend b) {
                log.info("backend {} recovered; refreshing its models", b.name());
                Clustering.recovered(clusterRef.get(), b);
                monitor.refresh(b).whenComplete((v, t) -> {
                    scheduler.drainAll();
                    ensurer.recovered(b);
                });
            }
        });
        LatencyRecorders recorders = new LatencyRecorders();
        LatencyReporter reporter = new LatencyReporter(recorders).start();
        AccessLog accessLog = new AccessLog(AccessLog.Format.parse(
                System.getenv().getOrDefault("ACCESS_LOG_FORMAT", "plain")));
        RequestObserver observer = keys == null ? CompositeObserver.of(recorders, accessLog)
                : CompositeObserver.of(recorders, accessLog, keys);
        ExecutorService renderer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-render");
            t.setDaemon(true);
            return t;
        });
        Supplier<ClusterStatus> clusterStatus = () -> Clustering.status(config, clusterRef.get());
        ChartSampler charts = new ChartSampler(recorders, scheduler).start();
        ClientLimits clientLimits = new ClientLimits(config);
        PrometheusText prometheus = new PrometheusText(recorders, fleet, scheduler, speeds, clusterStatus)
                .clientSide(clientLimits::status).ensure(ensurer::status);
        if (keys != null) {
            keys.exportTo(prometheus);
        }
        if (tls != null) {
            tls.exportTo(prometheus);
        }
        RequestTracker requests = new RequestTracker(config.requestStatusRetention(), System::nanoTime);
        BalancerEndpoints own = new BalancerEndpoints(fleet, scheduler, connections::draining, config.adminToken(),
                prometheus,
                new LatencyDump(recorders),
                new StatusDocument(fleet, scheduler, speeds, recorders, clusterStatus).ensure(ensurer::status), renderer,
                DashboardPage.load(), new DashboardData(fleet, scheduler, speeds, charts),
                new RequestStatus(requests, scheduler));
        if (keys != null) {
            own.usage(new UsageDocument(keys, System::currentTimeMillis)::render);
        }
        RelayContext rc = new RelayContext(fleet, scheduler, pools, observer, monitor::refresh, scheduling::estimate,
                new RelayTimeouts(config.firstByteTimeout(), config.streamIdleTimeout()), requests);
        FleetAggregator aggregator = new FleetAggregator(fleet, fetcher, aliases);
        AtomicLong ids = new AtomicLong();
        boolean split = config.adminPort() > 0;
        ModelLoadFanout loads = new ModelLoadFanout(fleet, fetcher, monitor::refresh);
        BlobLocations blobs = BlobLocations.withDefaults();
        FleetOperations fleetOps = new FleetOperations(fleet, pools, fetcher, monitor::refresh, ensurer);
        RequestRouter router = new RequestRouter(rc, aggregator, loads, own, monitor,
                split ? RequestRouter.Face.PUBLIC : RequestRouter.Face.ALL, ids, blobs, fleetOps, aliases);
        if (keys != null) {
            router.withKeys(keys, scheduling.estimator());
        }
        RequestRouter adminRouter = new RequestRouter(rc, aggregator, loads, own, monitor, RequestRouter.Face.ADMIN,
                ids, blobs, fleetOps, aliases);
        List<AutoCloseable> resources = new ArrayList<>(List.of(reporter, charts, renderer::shutdownNow, scheduling,
                pools::close));
        // What creates work by itself; stopped when a drain begins (and closed with the rest at the end).
        List<AutoCloseable> background = new ArrayList<>();
        if (watched) {
            AtomicReference<FleetDeclarations> inForce = new AtomicReference<>(declared);
            background.add(ConfigWatcher.start(file, backends,
                    f -> {
                        BackendsFile.Loaded loaded = BackendsFile.load(f, f.getFileName().toString(), defaultSlots);
                        // The watcher calls its listener only when the backends differ; declarations may change
                        // alone, so they are applied here, on the watcher's thread, once the file parsed whole.
                        if (!loaded.declarations().equals(inForce.getAndSet(loaded.declarations()))) {
                            aliases.replace(loaded.declarations().aliases());
                            ensurer.declare(loaded.declarations().withFleetModels(config.ensureModels()));
                        }
                        return loaded.backends();
                    },
                    next -> {
                        FleetChange change = fleet.reload(next);
                        log.info("{} reloaded: {}", file.getFileName(), change.diff().summary());
                        Clustering.grant(clusterRef.get(), change.added());
                        change.added().forEach(b -> monitor.refresh(b).whenComplete((v, t) -> ensurer.recovered(b)));
                        scheduler.drainAll();
                    }, ConfigWatcher.Options.defaults()));
        }

        if (keys != null) {
            background.add(ConfigWatcher.watch(keysFile, keys.keys(), ApiKeysFile::load, next -> {
                keys.replace(next);
                log.info("{} reloaded: {} key(s)", keysFile.getFileName(), next.size());
            }, ApiKeysFile::describeChange, "API keys", ConfigWatcher.Options.defaults()));
        }

        if (tls != null) {
            background.add(tls.watch(ConfigWatcher.Options.defaults()));
        }

        ClusterNode cluster = Clustering.join(config, fleet, scheduler, scheduling);
        if (cluster != null) {
            clusterRef.set(cluster);
            ensurer.shareClaims(cluster.pullClaims());
            if (keys != null) {
                // Before the listener binds: no request has touched a bucket yet.
                keys.shareBuckets(cluster.keyBuckets());
            }
            resources.add(0, cluster);
        }
        try {
            monitor.refreshAll().get(3, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("first model poll did not finish in time; serving anyway");
        }
        ensurer.checkAll();
        background.add(ensurer);
        long every = config.modelRefreshInterval().toMillis();
        background.add(cancelling(workers.next().scheduleWithFixedDelay(monitor::refreshAll, every, every,
                TimeUnit.MILLISECONDS)));
        // A look at the declared models on the same beat: catches a model deleted by hand, or a backend whose
        // first model list came late. In memory only; a pull starts only where one is missing.
        background.add(cancelling(workers.next().scheduleWithFixedDelay(ensurer::checkAll, every, every,
                TimeUnit.MILLISECONDS)));
        // /api/ps alone, every second: Ollama answers it from memory (a few hundred bytes per backend), and an
        // eviction is only seen if a snapshot falls between the victim's unload and the next one.
        long psEvery = Math.min(1_000, every);
        background.add(cancelling(workers.next().scheduleWithFixedDelay(monitor::pollLoaded, psEvery, psEvery,
                TimeUnit.MILLISECONDS)));
        background.add(cancelling(workers.next().scheduleWithFixedDelay(() -> {
            prober.tick();
            fleet.reapRetired();
        }, 250, 250, TimeUnit.MILLISECONDS)));
        background.add(() -> scheduler.prewarmer(Prewarmer.NONE));
        resources.addAll(0, background);

        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(serverClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 128 * 1024))
                .childHandler(new ServerChannelInitializer(config, router, clientLimits, connections, tls));
        Channel ch;
        List<Channel> listeners = new ArrayList<>();
        int binding = config.port();
        String bindingFlag = "--port";
        try {
            ch = b.bind(new InetSocketAddress(config.bind(), config.port())).sync().channel();
            listeners.add(ch);
            if (split) {
                binding = config.adminPort();
                bindingFlag = "--admin-port";
                Channel admin = b.clone()
                        .childHandler(new ServerChannelInitializer(config, adminRouter, clientLimits, connections, tls))
                        .bind(new InetSocketAddress(config.bind(), config.adminPort())).sync().channel();
                listeners.add(admin);
                log.info("admin routes on {}", admin.localAddress());
            }
        } catch (Exception e) {
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            closeAll(resources);
            ConfigException readable = PortInUse.describe(e, binding, bindingFlag);
            if (readable != null) {
                throw readable;
            }
            throw e;
        }
        BalancerServer server = new BalancerServer(boss, workers, listeners, fleet, resources, config, connections,
                () -> closeAll(background), scheduler);
        log.info("Ollama Balancer listening on {} ({}) in front of {} backend(s) ({} transport)",
                ch.localAddress(), tls == null ? "http" : "https", backends.size(), epoll ? "epoll" : "nio");
        return server;
    }

    /** The bound port (useful when started on port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** The fleet this server fronts (for tests and the CLI's summary). */
    public Fleet fleet() {
        return fleet;
    }

    /** Blocks until the server is closed, and a graceful stop under way has finished (its last line logged). */
    @SuppressForbidden // the caller's thread (the CLI's main) waits here by design
    public void awaitClose() throws InterruptedException {
        closed.await();
        if (drain.started()) {
            // The event loops are down before the drain logs its last line: wait for that too, or the caller may
            // stop logging (and exit) first.
            drain.start().join();
        }
    }

    /**
     * Stops gracefully, as SIGTERM and SIGINT do (see {@link GracefulShutdown}): {@code /ready} turns 503 at once,
     * new requests are served for {@code --shutdown-delay}, then the listener closes and what runs or waits has
     * {@code --shutdown-grace} to finish. Returns at once; the future completes when everything has stopped (and
     * {@link #awaitClose} returns). Calling it again returns the same future.
     */
    public CompletableFuture<Void> shutdown() {
        return drain.start();
    }

    /** Cuts a graceful stop short, as a second signal does: what still runs is aborted now. */
    public void hurry() {
        drain.hurry();
    }

    /**
     * Stops at once: the listener closes and the event loops shut down, cutting whatever runs. During a graceful
     * stop, ends its grace now and waits for it instead.
     */
    @Override
    @SuppressForbidden // shutdown, on the caller's thread (never an event loop: it stops them)
    public void close() {
        if (drain.started()) {
            drain.hurry();
            drain.start().join();
            return;
        }
        closeListeners();
        release();
    }

    @SuppressForbidden // shutdown, on the drain's own thread or the caller's, never an event loop
    private void closeListeners() {
        for (Channel l : listeners) {
            l.close().syncUninterruptibly();
        }
    }

    @SuppressForbidden // shutdown, on the drain's own thread or the caller's, never an event loop
    private void release() {
        if (!released.compareAndSet(false, true)) {
            return;
        }
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        // In cluster mode the replica leaves here, once nothing runs: its slots go back to Redis at once.
        closeAll(resources);
        closed.countDown();
    }

    private static int queued(Scheduler scheduler) {
        int n = 0;
        for (ModelQueue q : scheduler.queues().values()) {
            n += q.size();
        }
        return n;
    }

    /** Cancels {@code task} when closed. */
    private static AutoCloseable cancelling(ScheduledFuture<?> task) {
        return () -> task.cancel(false);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", r, e.toString());
            }
        }
    }
}

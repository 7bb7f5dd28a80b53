package io.ollamabalancer.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything the balancer process is started with, after flags, environment, {@code .env} and {@code conf/}
 * defaults were merged (in that order of precedence). Immutable; safe to share between threads.
 * Build one with {@link #builder()} or change a copy with {@link #toBuilder()}. Optional settings left unset
 * ({@code redisUrl}, {@code clusterReplicaId}, {@code adminToken}, {@code corsOrigins}, {@code apiKeysFile}, the TLS files) are {@code null}; the cluster
 * settings matter only with a {@code redisUrl}.
 */
public record BalancerConfig(
        String bind,
        int port,
        Path backendsFile,
        long maxBodyBytes,
        int maxHeaderBytes,
        Duration clientIdleTimeout,
        Duration connectTimeout,
        Duration upstreamIdleTimeout,
        int maxConnectionsPerBackend,
        Duration modelRefreshInterval,
        int defaultMaxConcurrency,
        String policy,
        String redisUrl,
        String clusterNamespace,
        Duration clusterLease,
        String clusterReplicaId,
        String adminToken,
        int adminPort,
        int maxQueueDepth,
        Duration maxQueueWait,
        String corsOrigins,
        boolean prewarm,
        Duration streamIdleTimeout,
        Duration firstByteTimeout,
        Duration shutdownDelay,
        Duration shutdownGrace,
        Duration headerTimeout,
        Duration bodyReadTimeout,
        int maxClientConnections,
        long maxInflightBodyBytes,
        Path apiKeysFile,
        List<String> ensureModels,
        Duration requestStatusRetention,
        boolean fairShare,
        Path tlsCertFile,
        Path tlsKeyFile,
        Path backendCaFile) {

    public BalancerConfig {
        ensureModels = ensureModels == null ? List.of() : List.copyOf(ensureModels);
    }

    /** The body budget in force: {@link #maxInflightBodyBytes()}, or when that is 0 (auto) a quarter of the heap. */
    public long inflightBodyBudget() {
        return maxInflightBodyBytes > 0 ? maxInflightBodyBytes : Runtime.getRuntime().maxMemory() / 4;
    }

    /** The automatic bound on open connections to one backend, unless its slots need more. */
    public static final int AUTO_MAX_CONNECTIONS = 1024;
    /**
     * Connections beyond a backend's slots under the automatic bound: for what holds no slot (model lists, probes,
     * pulls, passthrough) while every slot streams.
     */
    public static final int AUTO_CONNECTION_ROOM = 16;

    /**
     * The bound on open connections to a backend with {@code slots} slots: {@link #maxConnectionsPerBackend()}, or
     * when that is 0 (auto) {@value #AUTO_MAX_CONNECTIONS}, raised to the slots and {@value #AUTO_CONNECTION_ROOM}
     * more where they need it. Each running request holds a connection: a fixed 1,024 made a backend of 1,250 slots
     * turn its last 226 requests away after a wait for a connection, and at 5,000 streams a thousand requests waited
     * seconds in the queue with those slots free.
     */
    public int maxConnectionsFor(int slots) {
        return maxConnectionsPerBackend > 0 ? maxConnectionsPerBackend
                : Math.max(AUTO_MAX_CONNECTIONS, slots + AUTO_CONNECTION_ROOM);
    }

    public static BalancerConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.bind = bind;
        b.port = port;
        b.backendsFile = backendsFile;
        b.maxBodyBytes = maxBodyBytes;
        b.maxHeaderBytes = maxHeaderBytes;
        b.clientIdleTimeout = clientIdleTimeout;
        b.connectTimeout = connectTimeout;
        b.upstreamIdleTimeout = upstreamIdleTimeout;
        b.maxConnectionsPerBackend = maxConnectionsPerBackend;
        b.modelRefreshInterval = modelRefreshInterval;
        b.defaultMaxConcurrency = defaultMaxConcurrency;
        b.policy = policy;
        b.redisUrl = redisUrl;
        b.clusterNamespace = clusterNamespace;
        b.clusterLease = clusterLease;
        b.clusterReplicaId = clusterReplicaId;
        b.adminToken = adminToken;
        b.adminPort = adminPort;
        b.maxQueueDepth = maxQueueDepth;
        b.maxQueueWait = maxQueueWait;
        b.corsOrigins = corsOrigins;
        b.prewarm = prewarm;
        b.streamIdleTimeout = streamIdleTimeout;
        b.firstByteTimeout = firstByteTimeout;
        b.shutdownDelay = shutdownDelay;
        b.shutdownGrace = shutdownGrace;
        b.headerTimeout = headerTimeout;
        b.bodyReadTimeout = bodyReadTimeout;
        b.maxClientConnections = maxClientConnections;
        b.maxInflightBodyBytes = maxInflightBodyBytes;
        b.apiKeysFile = apiKeysFile;
        b.ensureModels = ensureModels;
        b.requestStatusRetention = requestStatusRetention;
        b.fairShare = fairShare;
        b.tlsCertFile = tlsCertFile;
        b.tlsKeyFile = tlsKeyFile;
        b.backendCaFile = backendCaFile;
        return b;
    }

    /** Mutable, single-threaded builder; fields start at the built-in defaults. */
    public static final class Builder {
        private String bind = "0.0.0.0";
        private int port = 3000;
        private Path backendsFile = Path.of("containers.config.json");
        private long maxBodyBytes = 256L * 1024 * 1024;
        private int maxHeaderBytes = 64 * 1024;
        private Duration clientIdleTimeout = Duration.ofMinutes(5);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration upstreamIdleTimeout = Duration.ofSeconds(60);
        /** 0: auto ({@link BalancerConfig#maxConnectionsFor}). */
        private int maxConnectionsPerBackend = 0;
        private Duration modelRefreshInterval = Duration.ofSeconds(5);
        private int defaultMaxConcurrency = 1;
        private String policy = "eft";
        private String redisUrl;
        private String clusterNamespace = "ollama-balancer";
        private Duration clusterLease = Duration.ofSeconds(3);
        private String clusterReplicaId;
        private String adminToken;
        private int adminPort;
        private int maxQueueDepth = 10_000;
        private Duration maxQueueWait = Duration.ofMinutes(10);
        private String corsOrigins;
        private boolean prewarm = true;
        private Duration streamIdleTimeout = Duration.ofSeconds(60);
        private Duration firstByteTimeout = Duration.ofMinutes(5);
        private Duration shutdownDelay = Duration.ZERO;
        private Duration shutdownGrace = Duration.ofSeconds(30);
        private Duration headerTimeout = Duration.ofSeconds(10);
        private Duration bodyReadTimeout = Duration.ofSeconds(60);
        private int maxClientConnections = 10_000;
        /** 0: a quarter of the heap ({@link BalancerConfig#inflightBodyBudget()}). */
        private long maxInflightBodyBytes;
        private Path apiKeysFile;
        private Duration requestStatusRetention = Duration.ofSeconds(30);
        private List<String> ensureModels = List.of();
        private boolean fairShare = true;
        private Path tlsCertFile;
        private Path tlsKeyFile;
        private Path backendCaFile;

        public Builder bind(String v) { bind = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder backendsFile(Path v) { backendsFile = v; return this; }
        public Builder maxBodyBytes(long v) { maxBodyBytes = v; return this; }
        public Builder maxHeaderBytes(int v) { maxHeaderBytes = v; return this; }
        public Builder clientIdleTimeout(Duration v) { clientIdleTimeout = v; return this; }
        public Builder connectTimeout(Duration v) { connectTimeout = v; return this; }
        public Builder upstreamIdleTimeout(Duration v) { upstreamIdleTimeout = v; return this; }
        public Builder maxConnectionsPerBackend(int v) { maxConnectionsPerBackend = v; return this; }
        public Builder modelRefreshInterval(Duration v) { modelRefreshInterval = v; return this; }
        public Builder defaultMaxConcurrency(int v) { defaultMaxConcurrency = v; return this; }
        public Builder policy(String v) { policy = v; return this; }
        public Builder redisUrl(String v) { redisUrl = v; return this; }
        public Builder clusterNamespace(String v) { clusterNamespace = v; return this; }
        public Builder clusterLease(Duration v) { clusterLease = v; return this; }
        public Builder clusterReplicaId(String v) { clusterReplicaId = v; return this; }
        public Builder adminToken(String v) { adminToken = v; return this; }
        public Builder adminPort(int v) { adminPort = v; return this; }
        public Builder maxQueueDepth(int v) { maxQueueDepth = v; return this; }
        public Builder maxQueueWait(Duration v) { maxQueueWait = v; return this; }
        public Builder corsOrigins(String v) { corsOrigins = v; return this; }
        public Builder prewarm(boolean v) { prewarm = v; return this; }
        public Builder streamIdleTimeout(Duration v) { streamIdleTimeout = v; return this; }
        public Builder firstByteTimeout(Duration v) { firstByteTimeout = v; return this; }
        public Builder shutdownDelay(Duration v) { shutdownDelay = v; return this; }
        public Builder shutdownGrace(Duration v) { shutdownGrace = v; return this; }
        public Builder headerTimeout(Duration v) { headerTimeout = v; return this; }
        public Builder bodyReadTimeout(Duration v) { bodyReadTimeout = v; return this; }
        public Builder maxClientConnections(int v) { maxClientConnections = v; return this; }
        public Builder maxInflightBodyBytes(long v) { maxInflightBodyBytes = v; return this; }
        public Builder apiKeysFile(Path v) { apiKeysFile = v; return this; }
        public Builder ensureModels(List<String> v) { ensureModels = v; return this; }
        public Builder requestStatusRetention(Duration v) { requestStatusRetention = v; return this; }
        public Builder fairShare(boolean v) { fairShare = v; return this; }
        public Builder tlsCertFile(Path v) { tlsCertFile = v; return this; }
        public Builder tlsKeyFile(Path v) { tlsKeyFile = v; return this; }
        public Builder backendCaFile(Path v) { backendCaFile = v; return this; }

        public BalancerConfig build() {
            return new BalancerConfig(bind, port, backendsFile, maxBodyBytes, maxHeaderBytes, clientIdleTimeout,
                    connectTimeout, upstreamIdleTimeout, maxConnectionsPerBackend, modelRefreshInterval,
                    defaultMaxConcurrency, policy, redisUrl, clusterNamespace, clusterLease, clusterReplicaId,
                    adminToken, adminPort, maxQueueDepth, maxQueueWait, corsOrigins, prewarm, streamIdleTimeout,
                    firstByteTimeout, shutdownDelay, shutdownGrace, headerTimeout, bodyReadTimeout, maxClientConnections,
                    maxInflightBodyBytes, apiKeysFile, ensureModels, requestStatusRetention, fairShare,
                    tlsCertFile, tlsKeyFile, backendCaFile);
        }
    }
}

package io.ollamabalancer.config;

import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Every balancer setting that flags, the environment, {@code .env} and {@code conf/balancer.properties} can set,
 * with its name in each of them, how its text is parsed into a {@link BalancerConfig.Builder}, and how the current
 * value is shown. The one table that the CLI, the resolver, the docs and the tests share. Immutable.
 */
public enum Setting {
    BIND("bind", "BIND", List.of(), "--bind", "HOST", "address to listen on",
            (b, v) -> b.bind(SettingValues.host(v)), BalancerConfig::bind),
    PORT("port", "PORT", List.of(), "--port", "PORT", "HTTP port for clients (0 = any free port)",
            (b, v) -> b.port(SettingValues.port(v)), c -> String.valueOf(c.port())),
    BACKENDS_FILE("backends.file", "CONFIG_FILE", List.of("CONTAINERS_CONFIG"), "--config", "FILE",
            "the backends file (containers.config.json)",
            (b, v) -> b.backendsFile(SettingValues.path(v)), c -> String.valueOf(c.backendsFile())),
    MAX_BODY_SIZE("max.body.size", "MAX_BODY_SIZE", List.of(), "--max-body", "SIZE",
            "largest request body accepted (e.g. 256MB, 1g)",
            (b, v) -> b.maxBodyBytes(SettingValues.positiveSize(v)), c -> Sizes.format(c.maxBodyBytes())),
    MAX_HEADER_SIZE("max.header.size", "MAX_HEADER_SIZE", List.of(), "--max-header", "SIZE",
            "largest request line plus headers accepted",
            (b, v) -> b.maxHeaderBytes(SettingValues.intSize(v)), c -> Sizes.format(c.maxHeaderBytes())),
    CLIENT_IDLE_TIMEOUT("client.idle.timeout", "CLIENT_IDLE_TIMEOUT", List.of(), "--client-idle-timeout", "DURATION",
            "close a client connection idle this long",
            (b, v) -> b.clientIdleTimeout(SettingValues.positiveDuration(v)),
            c -> Durations.format(c.clientIdleTimeout())),
    CONNECT_TIMEOUT("connect.timeout", "CONNECT_TIMEOUT", List.of(), "--connect-timeout", "DURATION",
            "give up connecting to a backend after this long",
            (b, v) -> b.connectTimeout(SettingValues.positiveDuration(v)),
            c -> Durations.format(c.connectTimeout())),
    UPSTREAM_IDLE_TIMEOUT("upstream.idle.timeout", "UPSTREAM_IDLE_TIMEOUT", List.of(), "--upstream-idle-timeout",
            "DURATION", "close a pooled backend connection idle this long",
            (b, v) -> b.upstreamIdleTimeout(SettingValues.positiveDuration(v)),
            c -> Durations.format(c.upstreamIdleTimeout())),
    MAX_CONNECTIONS_PER_BACKEND("max.connections.per.backend", "MAX_CONNECTIONS_PER_BACKEND", List.of(),
            "--max-connections-per-backend", "N", "open connections to one backend, at most (auto = "
                    + BalancerConfig.AUTO_MAX_CONNECTIONS + ", or the backend's maxConcurrency + "
                    + BalancerConfig.AUTO_CONNECTION_ROOM + " where that is more)",
            (b, v) -> b.maxConnectionsPerBackend(v.trim().equalsIgnoreCase("auto") ? 0 : SettingValues.atLeast(v, 1)),
            c -> c.maxConnectionsPerBackend() == 0 ? "auto" : String.valueOf(c.maxConnectionsPerBackend())),
    MODEL_REFRESH_INTERVAL("model.refresh.interval", "MODEL_REFRESH_INTERVAL", List.of(), "--model-refresh-interval",
            "DURATION", "how often each backend's /api/tags and /api/ps are polled",
            (b, v) -> b.modelRefreshInterval(SettingValues.positiveDuration(v)),
            c -> Durations.format(c.modelRefreshInterval())),
    DEFAULT_MAX_CONCURRENCY("default.max.concurrency", "DEFAULT_MAX_CONCURRENCY", List.of(), "--max-concurrency",
            "N", "slots of a backend whose entry has no maxConcurrency",
            (b, v) -> b.defaultMaxConcurrency(SettingValues.atLeast(v, 1)),
            c -> String.valueOf(c.defaultMaxConcurrency())),
    POLICY("policy", "BALANCER_POLICY", List.of(), "--policy", "POLICY",
            "dispatch policy: eft, least-connections, least-connections-late, round-robin or legacy",
            (b, v) -> b.policy(SettingValues.policy(v)), BalancerConfig::policy),
    REDIS_URL("redis.url", "REDIS_URL", List.of(), "--redis-url", "URL",
            "Redis shared by replicas (redis://host:port); unset = run alone",
            (b, v) -> b.redisUrl(SettingValues.redisUrl(v)), BalancerConfig::redisUrl),
    CLUSTER_NAMESPACE("cluster.namespace", "CLUSTER_NAMESPACE", List.of(), "--cluster-namespace", "NAME",
            "prefix of every Redis key; replicas share state only within one namespace, so separate clusters "
                    + "(staging, prod) on one Redis need different names (letters, digits, . _ - :)",
            (b, v) -> b.clusterNamespace(SettingValues.clusterNamespace(v)), BalancerConfig::clusterNamespace),
    CLUSTER_LEASE("cluster.lease", "CLUSTER_LEASE", List.of(), "--cluster-lease", "DURATION",
            "a dead replica's slots return to the others within this (renewed every third of it; 2s to 5m)",
            (b, v) -> b.clusterLease(SettingValues.clusterLease(v)), c -> Durations.format(c.clusterLease())),
    CLUSTER_REPLICA_ID("cluster.replica.id", "CLUSTER_REPLICA_ID", List.of(), "--replica-id", "ID",
            "this replica's name in Redis (letters, digits, . _ -; e.g. a StatefulSet pod name); two live replicas "
                    + "must never share one; unset = host name plus a random suffix",
            (b, v) -> b.clusterReplicaId(SettingValues.replicaId(v)), BalancerConfig::clusterReplicaId),
    ADMIN_TOKEN("admin.token", "ADMIN_TOKEN", List.of(), "--admin-token", "TOKEN",
            "bearer token required by the admin routes; unset = admin routes open",
            (b, v) -> b.adminToken(v), c -> c.adminToken() == null ? null : "***"),
    ADMIN_PORT("admin.port", "ADMIN_PORT", List.of(), "--admin-port", "PORT",
            "separate port for /balancer/* admin routes (0 = serve them on the main port)",
            (b, v) -> b.adminPort(SettingValues.port(v)), c -> String.valueOf(c.adminPort())),
    QUEUE_DEPTH("queue.depth", "QUEUE_DEPTH", List.of(), "--queue-depth", "N",
            "requests waiting for a slot, at most, before new ones get 503",
            (b, v) -> b.maxQueueDepth(SettingValues.atLeast(v, 0)), c -> String.valueOf(c.maxQueueDepth())),
    QUEUE_WAIT("queue.wait", "QUEUE_WAIT", List.of(), "--queue-wait", "DURATION",
            "longest a request waits for a slot before it gets 503",
            (b, v) -> b.maxQueueWait(SettingValues.nonNegativeDuration(v)), c -> Durations.format(c.maxQueueWait())),
    CORS_ORIGINS("cors.origins", "CORS_ORIGINS", List.of("OLLAMA_ORIGINS"), "--cors-origins", "LIST",
            "browser origins allowed besides Ollama's defaults (localhost, 127.0.0.1, app://…); comma-separated, "
                    + "* wildcards, * alone allows all",
            (b, v) -> b.corsOrigins(v), c -> c.corsOrigins()),
    PREWARM("prewarm", "PREWARM", List.of(), "--prewarm", "on|off",
            "load a model ahead of demand where the placement plan wants it (Ollama's preload)",
            (b, v) -> b.prewarm(SettingValues.onOff(v)), c -> c.prewarm() ? "on" : "off"),
    STREAM_IDLE_TIMEOUT("stream.idle.timeout", "STREAM_IDLE_TIMEOUT", List.of(), "--stream-idle-timeout",
            "DURATION", "end a started response whose backend sends nothing this long with an error line, close its "
                    + "connection and count a failure (0 = never)",
            (b, v) -> b.streamIdleTimeout(SettingValues.nonNegativeDuration(v)),
            c -> Durations.format(c.streamIdleTimeout())),
    FIRST_BYTE_TIMEOUT("first.byte.timeout", "FIRST_BYTE_TIMEOUT", List.of(), "--first-byte-timeout", "DURATION",
            "least time a backend gets to start its answer (504 after it); inference gets 4x its own estimate "
                    + "if longer (0 = never)",
            (b, v) -> b.firstByteTimeout(SettingValues.nonNegativeDuration(v)),
            c -> Durations.format(c.firstByteTimeout())),
    SHUTDOWN_DELAY("shutdown.delay", "SHUTDOWN_DELAY", List.of(), "--shutdown-delay", "DURATION",
            "on SIGTERM, keep accepting requests this long with /ready at 503 (the load balancer's deregistration "
                    + "time) before the listener closes",
            (b, v) -> b.shutdownDelay(SettingValues.nonNegativeDuration(v)), c -> Durations.format(c.shutdownDelay())),
    SHUTDOWN_GRACE("shutdown.grace", "SHUTDOWN_GRACE", List.of(), "--shutdown-grace", "DURATION",
            "on SIGTERM, after the listener closed, let streams and queued requests finish this long; then what "
                    + "still runs ends with an error line and what still waits gets 503",
            (b, v) -> b.shutdownGrace(SettingValues.nonNegativeDuration(v)), c -> Durations.format(c.shutdownGrace())),
    HEADER_TIMEOUT("header.timeout", "HEADER_TIMEOUT", List.of(), "--header-timeout", "DURATION",
            "a request head not complete this long after its first byte gets 408 and a close",
            (b, v) -> b.headerTimeout(SettingValues.positiveDuration(v)), c -> Durations.format(c.headerTimeout())),
    BODY_READ_TIMEOUT("body.read.timeout", "BODY_READ_TIMEOUT", List.of(), "--body-read-timeout", "DURATION",
            "a request body that sends nothing this long gets 408 and a close",
            (b, v) -> b.bodyReadTimeout(SettingValues.positiveDuration(v)),
            c -> Durations.format(c.bodyReadTimeout())),
    MAX_CLIENT_CONNECTIONS("max.client.connections", "MAX_CLIENT_CONNECTIONS", List.of(), "--max-client-connections",
            "N", "open client connections, at most; new ones above it get 503 and a close",
            (b, v) -> b.maxClientConnections(SettingValues.atLeast(v, 1)),
            c -> String.valueOf(c.maxClientConnections())),
    MAX_INFLIGHT_BODY_BYTES("max.inflight.body.bytes", "MAX_INFLIGHT_BODY_BYTES", List.of(),
            "--max-inflight-body-bytes", "SIZE",
            "request bodies held in memory, all connections together; new bodies above it get 503 "
                    + "(auto = a quarter of the heap)",
            (b, v) -> b.maxInflightBodyBytes(v.trim().equalsIgnoreCase("auto") ? 0 : SettingValues.positiveSize(v)),
            c -> c.maxInflightBodyBytes() == 0 ? "auto" : Sizes.format(c.maxInflightBodyBytes())),
    API_KEYS_FILE("api.keys.file", "API_KEYS_FILE", List.of(), "--api-keys", "FILE",
            "the API keys file (JSON; watched and reloaded): every Ollama and OpenAI route then needs "
                    + "Authorization: Bearer <key>, under the key's limits; unset = no keys",
            (b, v) -> b.apiKeysFile(v.isBlank() ? null : SettingValues.path(v)),
            c -> c.apiKeysFile() == null ? null : String.valueOf(c.apiKeysFile())),
    ENSURE_MODELS("ensure.models", "ENSURE_MODELS", List.of(), "--ensure-models", "LIST",
            "models every backend must hold, pulled where missing (comma-separated; added to the backends file's "
                    + "\"ensureModels\")",
            (b, v) -> b.ensureModels(SettingValues.list(v)), c -> String.join(",", c.ensureModels())),
    REQUEST_STATUS_RETENTION("request.status.retention", "REQUEST_STATUS_RETENTION", List.of(),
            "--request-status-retention", "DURATION",
            "how long GET /balancer/requests/{id} still answers for a request that ended (0 = not at all)",
            (b, v) -> b.requestStatusRetention(SettingValues.nonNegativeDuration(v)),
            c -> Durations.format(c.requestStatusRetention())),
    FAIR_SHARE("fair.share", "FAIR_SHARE", List.of(), "--fair-share", "on|off",
            "with --api-keys: within a priority, serve API keys in proportion to their weights in expected work "
                    + "(requests without a key share one flow of weight 1); off = by arrival and expected length alone",
            (b, v) -> b.fairShare(SettingValues.onOff(v)), c -> c.fairShare() ? "on" : "off"),
    TLS_CERT_FILE("tls.cert.file", "TLS_CERT_FILE", List.of(), "--tls-cert", "FILE",
            "serve HTTPS with this certificate chain (PEM; with --tls-key; reloaded when it changes); unset = "
                    + "plain HTTP",
            (b, v) -> b.tlsCertFile(v.isBlank() ? null : SettingValues.path(v)),
            c -> c.tlsCertFile() == null ? null : String.valueOf(c.tlsCertFile())),
    TLS_KEY_FILE("tls.key.file", "TLS_KEY_FILE", List.of(), "--tls-key", "FILE",
            "the private key of --tls-cert (PEM, PKCS#8: BEGIN PRIVATE KEY; reloaded when it changes)",
            (b, v) -> b.tlsKeyFile(v.isBlank() ? null : SettingValues.path(v)),
            c -> c.tlsKeyFile() == null ? null : String.valueOf(c.tlsKeyFile())),
    BACKEND_CA_FILE("backend.ca.file", "BACKEND_CA_FILE", List.of(), "--backend-ca", "FILE",
            "trust these CA certificates (PEM bundle) for https:// backends instead of the system's",
            (b, v) -> b.backendCaFile(v.isBlank() ? null : SettingValues.path(v)),
            c -> c.backendCaFile() == null ? null : String.valueOf(c.backendCaFile()));

    private final String key;
    private final String env;
    private final List<String> envAliases;
    private final String flag;
    private final String label;
    private final String description;
    private final BiConsumer<BalancerConfig.Builder, String> apply;
    private final Function<BalancerConfig, String> show;

    Setting(String key, String env, List<String> envAliases, String flag, String label, String description,
            BiConsumer<BalancerConfig.Builder, String> apply, Function<BalancerConfig, String> show) {
        this.key = key;
        this.env = env;
        this.envAliases = envAliases;
        this.flag = flag;
        this.label = label;
        this.description = description;
        this.apply = apply;
        this.show = show;
    }

    /** The key in {@code conf/balancer.properties}. */
    public String key() {
        return key;
    }

    /** The environment variable (also read from {@code .env}). */
    public String env() {
        return env;
    }

    /** Older names of the environment variable, read when {@link #env()} is absent. */
    public List<String> envAliases() {
        return envAliases;
    }

    /** The long command-line option, e.g. {@code --port}. */
    public String flag() {
        return flag;
    }

    /** The placeholder shown in help, e.g. {@code PORT}, {@code SIZE}. */
    public String label() {
        return label;
    }

    public String description() {
        return description;
    }

    /** Whether the value must not be printed (tokens). */
    public boolean secret() {
        return this == ADMIN_TOKEN;
    }

    /** Parses {@code text} into the builder; throws {@link ConfigException} (without a source prefix). */
    public void apply(BalancerConfig.Builder builder, String text) {
        apply.accept(builder, text.strip());
    }

    /** The value in {@code config} as it would be written in a properties file, or {@code null} if unset. */
    public String show(BalancerConfig config) {
        return show.apply(config);
    }

    /** The setting with that properties key, or {@code null}. */
    public static Setting byKey(String key) {
        for (Setting s : values()) {
            if (s.key.equals(key)) {
                return s;
            }
        }
        return null;
    }
}

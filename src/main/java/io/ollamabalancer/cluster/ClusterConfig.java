package io.ollamabalancer.cluster;

import io.ollamabalancer.config.BalancerConfig;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How this replica takes part in a cluster: where Redis is and the timings of the protocol. Immutable; build one
 * with {@link #fromUrl(String)} (defaults) and adjust with {@link #toBuilder()}.
 *
 * @param target             the Redis deployment ({@link RedisTarget#parse})
 * @param namespace          key prefix; replicas share state only within one namespace. It is also the hash tag
 *                           ({@code {namespace}:…}) that keeps every key in one Redis Cluster slot
 * @param replicaId          this replica's name in Redis ({@code [A-Za-z0-9._-]}); unique per process
 * @param leaseTtl           how long a replica's slot holdings survive without renewal: a dead replica's slots
 *                           come back this long after its last renewal at the latest
 * @param commandTimeout     a Redis command not answered within this is a failure (the replica then goes alone)
 * @param refreshInterval    how often grants are re-synchronised while there is competition or unmet demand,
 *                           and the pace of the broker's housekeeping pass
 * @param retryDelay         how soon a replica asks again after Redis gave its free slot to a better request
 * @param mirrorFlushDelay   a queued request is mirrored only if it still waits this long (most never are)
 * @param statsInterval      how often learned statistics are published
 * @param healthPollInterval how often shared ejections are read (pub/sub makes most arrive sooner)
 * @param reconnectBackoffMax the longest pause between attempts to reach Redis again
 * @param fallbackReplicas   when Redis is unreachable, divide each backend's slots by at least this many replicas
 *                           (0: only by the number last seen); matters for a replica that never saw Redis
 * @param statsTtl           how long shared statistics of a replica outlive its last publication
 */
public record ClusterConfig(
        RedisTarget target,
        String namespace,
        String replicaId,
        Duration leaseTtl,
        Duration commandTimeout,
        Duration refreshInterval,
        Duration retryDelay,
        Duration mirrorFlushDelay,
        Duration statsInterval,
        Duration healthPollInterval,
        Duration reconnectBackoffMax,
        int fallbackReplicas,
        Duration statsTtl) {

    public ClusterConfig {
        Objects.requireNonNull(target, "target");
        if (namespace == null || namespace.isBlank() || namespace.contains("{") || namespace.contains("}")) {
            throw new IllegalArgumentException("namespace must be non-empty and free of braces: " + namespace);
        }
        if (replicaId == null || !replicaId.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("replica id must match [A-Za-z0-9._-]{1,64}: " + replicaId);
        }
        positive(leaseTtl, "leaseTtl");
        positive(commandTimeout, "commandTimeout");
        positive(refreshInterval, "refreshInterval");
        positive(retryDelay, "retryDelay");
        Objects.requireNonNull(mirrorFlushDelay, "mirrorFlushDelay");
        positive(statsInterval, "statsInterval");
        positive(healthPollInterval, "healthPollInterval");
        positive(reconnectBackoffMax, "reconnectBackoffMax");
        positive(statsTtl, "statsTtl");
        if (fallbackReplicas < 0) {
            throw new IllegalArgumentException("fallbackReplicas must be >= 0");
        }
        if (leaseTtl.compareTo(commandTimeout.multipliedBy(4)) < 0) {
            throw new IllegalArgumentException("leaseTtl must be at least 4 command timeouts, so renewals can fail "
                    + "and be retried before the lease runs out");
        }
    }

    /** The defaults for a Redis URL (see {@link RedisTarget} for the forms). */
    public static ClusterConfig fromUrl(String redisUrl) {
        return new Builder(RedisTarget.parse(redisUrl)).build();
    }

    /**
     * Cluster mode from the balancer's settings (Redis URL, namespace, lease and, when set, replica id; the other
     * timings keep their defaults), or {@code null} when no Redis URL is set (single replica).
     */
    public static ClusterConfig fromBalancerConfig(BalancerConfig config) {
        String url = config.redisUrl();
        if (url == null || url.isBlank()) {
            return null;
        }
        Builder b = new Builder(RedisTarget.parse(url)).namespace(config.clusterNamespace())
                .leaseTtl(config.clusterLease());
        if (config.clusterReplicaId() != null) {
            b.replicaId(config.clusterReplicaId());
        }
        return b.build();
    }

    /** How often each replica renews its lease: a third of the TTL, so two renewals may fail in a row. */
    public Duration renewInterval() {
        return leaseTtl.dividedBy(3);
    }

    /** Mirror keys expire this long after their replica stopped touching them. */
    Duration mirrorKeyTtl() {
        return leaseTtl.multipliedBy(3);
    }

    /**
     * After Redis came back empty, grants stay within each replica's fallback share this long, so every replica
     * has re-registered what it runs before anyone may take more.
     */
    Duration settleTime() {
        return renewInterval().multipliedBy(2).plus(commandTimeout);
    }

    public Builder toBuilder() {
        Builder b = new Builder(target);
        b.namespace = namespace;
        b.replicaId = replicaId;
        b.leaseTtl = leaseTtl;
        b.commandTimeout = commandTimeout;
        b.refreshInterval = refreshInterval;
        b.retryDelay = retryDelay;
        b.mirrorFlushDelay = mirrorFlushDelay;
        b.statsInterval = statsInterval;
        b.healthPollInterval = healthPollInterval;
        b.reconnectBackoffMax = reconnectBackoffMax;
        b.fallbackReplicas = fallbackReplicas;
        b.statsTtl = statsTtl;
        return b;
    }

    /** A replica id from the host name plus a random suffix: readable in Redis, unique per process. */
    static String defaultReplicaId() {
        // Containers set HOSTNAME; the lookup is the fallback (startup only, on the main thread).
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                host = "replica";
            }
        }
        host = host.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
        if (host.length() > 40) {
            host = host.substring(0, 40);
        }
        return host + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
    }

    private static void positive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }

    /** Mutable, single-threaded builder; starts at the defaults. */
    public static final class Builder {
        private RedisTarget target;
        private String namespace = "ollama-balancer";
        private String replicaId = defaultReplicaId();
        private Duration leaseTtl = Duration.ofSeconds(3);
        // 500 ms, not less: on a starved machine 250 ms made replicas flap between joined and alone, and
        // every flap costs slot hand-offs. Outage detection is slower; dispatch never waits on Redis either way.
        private Duration commandTimeout = Duration.ofMillis(500);
        private Duration refreshInterval = Duration.ofMillis(100);
        private Duration retryDelay = Duration.ofMillis(10);
        private Duration mirrorFlushDelay = Duration.ofMillis(2);
        private Duration statsInterval = Duration.ofSeconds(2);
        private Duration healthPollInterval = Duration.ofMillis(500);
        private Duration reconnectBackoffMax = Duration.ofSeconds(2);
        private int fallbackReplicas;
        private Duration statsTtl = Duration.ofDays(7);

        private Builder(RedisTarget target) {
            this.target = target;
        }

        public Builder target(RedisTarget v) { target = v; return this; }
        public Builder namespace(String v) { namespace = v; return this; }
        public Builder replicaId(String v) { replicaId = v; return this; }
        public Builder leaseTtl(Duration v) { leaseTtl = v; return this; }
        public Builder commandTimeout(Duration v) { commandTimeout = v; return this; }
        public Builder refreshInterval(Duration v) { refreshInterval = v; return this; }
        public Builder retryDelay(Duration v) { retryDelay = v; return this; }
        public Builder mirrorFlushDelay(Duration v) { mirrorFlushDelay = v; return this; }
        public Builder statsInterval(Duration v) { statsInterval = v; return this; }
        public Builder healthPollInterval(Duration v) { healthPollInterval = v; return this; }
        public Builder reconnectBackoffMax(Duration v) { reconnectBackoffMax = v; return this; }
        public Builder fallbackReplicas(int v) { fallbackReplicas = v; return this; }
        public Builder statsTtl(Duration v) { statsTtl = v; return this; }

        public ClusterConfig build() {
            return new ClusterConfig(target, namespace, replicaId, leaseTtl, commandTimeout, refreshInterval,
                    retryDelay, mirrorFlushDelay, statsInterval, healthPollInterval, reconnectBackoffMax,
                    fallbackReplicas, statsTtl);
        }
    }
}

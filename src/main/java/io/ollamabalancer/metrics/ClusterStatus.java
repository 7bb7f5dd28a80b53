package io.ollamabalancer.metrics;

import java.util.Map;

/**
 * What the status page and {@code /metrics} show of cluster mode, as one immutable snapshot: whether this replica
 * shares its fleet through Redis, whether it is joined right now (or serving alone on its fair share), how many
 * replicas it last saw, and how many slots of each backend it may use. Holds no buffers.
 *
 * @param enabled      a Redis URL is configured
 * @param replicaId    this replica's id in Redis ({@code null} when not enabled)
 * @param joined       sharing state through Redis now; {@code false} while alone
 * @param liveReplicas replicas seen alive at the last lease renewal, this one included
 * @param grants       backend → slots this replica may use now
 * @param keyLimits    with API keys, how their per-minute limits hold: {@link #KEYS_SHARED} (buckets shared through
 *                     Redis) or {@link #KEYS_PER_REPLICA} (each replica holds limit ÷ live replicas while Redis is
 *                     away); {@code null} without API keys
 * @param outages      times this replica went alone since it started
 * @param lateReplies  Redis commands that timed out while Redis still answered the renewal sent right after, so the
 *                     replica stayed joined (a pause, not an outage)
 */
public record ClusterStatus(boolean enabled, String replicaId, boolean joined, int liveReplicas,
                            Map<String, Integer> grants, String keyLimits, long outages, long lateReplies) {
    public static final String KEYS_SHARED = "shared";
    public static final String KEYS_PER_REPLICA = "per-replica";

    /** A single balancer, in memory. */
    public static final ClusterStatus OFF = new ClusterStatus(false, null, false, 1, Map.of());

    public ClusterStatus {
        grants = Map.copyOf(grants);
    }

    /** Without API keys, no outage seen. */
    public ClusterStatus(boolean enabled, String replicaId, boolean joined, int liveReplicas,
                         Map<String, Integer> grants) {
        this(enabled, replicaId, joined, liveReplicas, grants, null);
    }

    /** No outage seen. */
    public ClusterStatus(boolean enabled, String replicaId, boolean joined, int liveReplicas,
                         Map<String, Integer> grants, String keyLimits) {
        this(enabled, replicaId, joined, liveReplicas, grants, keyLimits, 0, 0);
    }
}

package io.ollamabalancer.server;

import io.ollamabalancer.SuppressForbidden;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.cluster.ClusterConfig;
import io.ollamabalancer.cluster.ClusterNode;
import io.ollamabalancer.cluster.FleetLocalView;
import io.ollamabalancer.cluster.HealthListener;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.estimate.CostModelState;
import io.ollamabalancer.metrics.ClusterStatus;
import io.ollamabalancer.schedule.Scheduler;
import io.ollamabalancer.schedule.Scheduling;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Connects one balancer to the replicas it shares a fleet with (cluster mode, {@code --redis-url}): every backend's
 * slot limit follows this replica's grant, the scheduler reports its queues and freed slots, and ejections travel
 * both ways. With no Redis URL nothing here runs and the balancer is alone, in memory. Stateless helper; called at
 * start-up (off the event loops) and from the health listener.
 */
final class Clustering {
    private static final Logger log = LoggerFactory.getLogger(Clustering.class);
    private static final Duration JOIN_WAIT = Duration.ofSeconds(5);
    /** Set while an ejection learned from another replica is applied, so it is not published back. */
    private static final ThreadLocal<Boolean> REMOTE = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private Clustering() {
    }

    /**
     * Cluster mode's state for the status page and metrics. {@code node} is {@code null} before the join (or with
     * no Redis URL): a configured replica then shows as alone.
     */
    static ClusterStatus status(BalancerConfig config, ClusterNode node) {
        boolean keys = config.apiKeysFile() != null;
        if (node == null) {
            return config.redisUrl() == null ? ClusterStatus.OFF
                    : new ClusterStatus(true, null, false, 1, java.util.Map.of(),
                    keys ? ClusterStatus.KEYS_PER_REPLICA : null);
        }
        String keyLimits = !keys ? null
                : node.keyBuckets().shared() ? ClusterStatus.KEYS_SHARED : ClusterStatus.KEYS_PER_REPLICA;
        return new ClusterStatus(true, node.replicaId(), node.isJoined(), node.liveReplicas(), node.grants(),
                keyLimits, node.outages(), node.lateReplies());
    }

    /** Joins the cluster when a Redis URL is configured; returns {@code null} for a single balancer. */
    @SuppressForbidden // start-up, on the caller's thread: waits up to JOIN_WAIT for Redis
    static ClusterNode join(BalancerConfig config, Fleet fleet, Scheduler scheduler, Scheduling scheduling) {
        ClusterConfig cc;
        try {
            cc = ClusterConfig.fromBalancerConfig(config);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--redis-url: " + e.getMessage());
        }
        if (cc == null) {
            return null;
        }
        HealthListener health = new HealthListener() {
            @Override
            public void ejectedElsewhere(String backend, Duration remaining, String byReplica, String reason) {
                Backend b = fleet.byName(backend);
                if (b != null) {
                    REMOTE.set(Boolean.TRUE);
                    try {
                        String why = "ejected by replica " + byReplica + ": " + reason;
                        // Shown as the backend's last error on this replica's status page, which otherwise
                        // would not say why a backend it never failed on is out.
                        b.lastError(why);
                        b.healthTracker().onConnectionRefused(why);
                    } finally {
                        REMOTE.set(Boolean.FALSE);
                    }
                }
            }

            @Override
            public void recoveredElsewhere(String backend) {
                // Our own half-open probe confirms it; trusting another replica's view blindly could flood it.
                scheduler.drainAll();
            }
        };
        ClusterNode node = ClusterNode.start(cc, new FleetLocalView(fleet, scheduler::queues, scheduler::drainAll),
                new CostModelState(scheduling.costModel(), scheduling.estimator()), health, null);
        grant(node, fleet.all());
        scheduler.listener(node);
        try {
            node.ready().get(JOIN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            log.info("cluster mode: replica {} {} ({} live replicas)", node.replicaId(),
                    node.isJoined() ? "joined" : "runs alone until Redis answers", node.liveReplicas());
        } catch (Exception e) {
            log.warn("cluster mode: Redis did not answer in {} s; serving alone with a fair share of each backend",
                    JOIN_WAIT.toSeconds());
        }
        return node;
    }

    /** Caps each backend's slots by this replica's grant (at start and for backends added by a reload). */
    static void grant(ClusterNode node, List<Backend> backends) {
        if (node == null) {
            return;
        }
        for (Backend b : backends) {
            b.slotGrant(node.grantFor(b.name())::granted);
        }
    }

    static void ejected(ClusterNode node, Backend b, String why) {
        if (node != null && !REMOTE.get()) {
            node.backendEjected(b.name(), Duration.ofNanos(Math.max(1, b.healthTracker().ejectionNanos())), why);
        }
    }

    static void recovered(ClusterNode node, Backend b) {
        if (node != null) {
            node.backendRecovered(b.name());
        }
    }
}

package io.ollamabalancer.cluster;

import io.ollamabalancer.estimate.LearnedState;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.config.Setting;
import io.ollamabalancer.config.SettingsResolver;
import io.ollamabalancer.testing.Closer;
import io.ollamabalancer.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.ollamabalancer.cluster.TestRedis.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cluster settings (namespace, lease, replica id) from where an operator sets them to the {@link ClusterConfig},
 * and, against a real redis-server, that a namespace really separates two clusters sharing one Redis.
 */
class ClusterSettingsTest {
    private final Closer closer = new Closer();

    @AfterEach
    void closeAll() throws Exception {
        closer.closeAll();
    }

    /** Resolves the balancer's settings from these environment variables alone, as {@code serve} would. */
    private static BalancerConfig fromEnv(Map<String, String> env) {
        return new SettingsResolver(new EnumMap<>(Setting.class), env, Map.of(), new Properties()).resolve().config();
    }

    private static ClusterConfig cluster(String redisUrl, String... envPairs) {
        Map<String, String> env = new HashMap<>(Map.of("REDIS_URL", redisUrl));
        for (int i = 0; i < envPairs.length; i += 2) {
            env.put(envPairs[i], envPairs[i + 1]);
        }
        return ClusterConfig.fromBalancerConfig(fromEnv(env));
    }

    @Test
    void namespaceLeaseAndReplicaIdArriveInTheClusterConfig() {
        ClusterConfig c = cluster("redis://r:1", "CLUSTER_NAMESPACE", "ob:staging", "CLUSTER_LEASE", "9s",
                "CLUSTER_REPLICA_ID", "balancer-2");
        assertThat(c.namespace()).isEqualTo("ob:staging");
        assertThat(c.leaseTtl()).isEqualTo(Duration.ofSeconds(9));
        assertThat(c.replicaId()).isEqualTo("balancer-2");
        // The timings derived from the lease follow it.
        assertThat(c.renewInterval()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.mirrorKeyTtl()).isEqualTo(Duration.ofSeconds(27));

        ClusterConfig defaults = cluster("redis://r:1");
        ClusterConfig builtIn = ClusterConfig.fromUrl("redis://r:1");
        assertThat(defaults.namespace()).isEqualTo(builtIn.namespace()).isEqualTo("ollama-balancer");
        assertThat(defaults.leaseTtl()).isEqualTo(builtIn.leaseTtl()).isEqualTo(Duration.ofSeconds(3));
        assertThat(defaults.replicaId()).as("unset: generated, as before").matches("[a-z0-9.-]+-[0-9a-f]{6}");
        // Every other timing stays at its built-in default.
        assertThat(builtIn.toBuilder().target(defaults.target()).replicaId(defaults.replicaId()).build())
                .isEqualTo(defaults);
    }

    @Test
    void everyLeaseTheSettingsAcceptIsOneTheClusterAccepts() {
        // The settings check the lease alone; the cluster also needs four command timeouts inside it.
        assertThat(cluster("redis://r:1", "CLUSTER_LEASE", "2s").leaseTtl()).isEqualTo(Duration.ofSeconds(2));
        assertThat(cluster("redis://r:1", "CLUSTER_LEASE", "5m").leaseTtl()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void replicasShareStateOnlyWithinTheirNamespace() throws Exception {
        RedisServerProcess redis = closer.add(RedisServerProcess.startOrSkip());
        TestRedis clients = closer.add(new TestRedis(redis));
        String prod = "prod-" + UUID.randomUUID();
        String staging = "staging-" + UUID.randomUUID();
        // The same replica id in both clusters: only the namespace keeps them apart.
        ClusterNode prod1 = node(redis, prod, "r1");
        ClusterNode prod2 = node(redis, prod, "r2");
        ClusterNode staging1 = node(redis, staging, "r1");

        await().atMost(Duration.ofSeconds(10)).until(() -> prod1.liveReplicas() == 2 && prod2.liveReplicas() == 2);
        // Several renewals of the staging replica after both prod replicas were live.
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> staging1.liveReplicas() == 1);
        assertThat(List.of(prod1, prod2, staging1)).allMatch(ClusterNode::isJoined);

        RedisAsyncCommands<String, String> c = clients.connect();
        assertThat(members(c, prod)).containsExactlyInAnyOrder("r1", "r2");
        assertThat(members(c, staging)).containsExactly("r1");
        assertThat(await(c.keys("*"))).isNotEmpty()
                .allMatch(k -> k.startsWith("{" + prod + "}:") || k.startsWith("{" + staging + "}:"));
    }

    private static Collection<String> members(RedisAsyncCommands<String, String> c, String namespace)
            throws Exception {
        return await(c.zrange(new Keys(namespace).replicas(), 0, -1));
    }

    /** A replica with no backends, configured through the settings with the shortest lease they allow. */
    private ClusterNode node(RedisServerProcess redis, String namespace, String replicaId) throws Exception {
        ClusterConfig config = cluster(redis.url(), "CLUSTER_NAMESPACE", namespace, "CLUSTER_REPLICA_ID", replicaId,
                "CLUSTER_LEASE", "2s");
        ClusterNode node = closer.add(ClusterNode.start(config, new NoBackends(), LearnedState.NONE,
                HealthListener.NONE, null));
        node.ready().get(15, TimeUnit.SECONDS);
        return node;
    }

    /** A fleet without backends: membership is all these replicas share. */
    private static final class NoBackends implements LocalView {
        @Override
        public Map<String, Integer> slotLimits() {
            return Map.of();
        }

        @Override
        public int inUse(String backend) {
            return 0;
        }

        @Override
        public Collection<String> models(String backend) {
            return List.of();
        }

        @Override
        public Demand demand(String backend) {
            return Demand.NONE;
        }

        @Override
        public void capacityGained() {
        }
    }
}

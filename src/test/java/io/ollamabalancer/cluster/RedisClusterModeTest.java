package io.ollamabalancer.cluster;

import io.ollamabalancer.estimate.LearnedState;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.ollamabalancer.testing.RedisServerProcess;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.ollamabalancer.cluster.TestRedis.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code redis-cluster://} form against a real (single-node) Redis Cluster: every script runs, because every
 * key carries the namespace hash tag and so lives in one slot.
 */
class RedisClusterModeTest {

    @Test
    void aReplicaJoinsARedisClusterAndSharesSlotsAndQueue() throws Exception {
        try (RedisServerProcess redis = RedisServerProcess.startOrSkip(true)) {
            ClusterNodeTest.FakeView view = new ClusterNodeTest.FakeView();
            view.inUse.set(2);
            ClusterConfig config = ClusterConfig.fromUrl(redis.url()).toBuilder().namespace("cl")
                    .replicaId("only").mirrorFlushDelay(Duration.ofMillis(1)).build();
            assertThat(config.target().mode()).isEqualTo(RedisTarget.Mode.CLUSTER);
            ClusterNode node = ClusterNode.start(config, view, LearnedState.NONE, HealthListener.NONE, null);
            RedisClusterClient client = RedisClusterClient.create(RedisURI.create("127.0.0.1", redis.port()));
            StatefulRedisClusterConnection<String, String> c = client.connect();
            try {
                node.ready().get(10, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(10)).until(node::isJoined);
                Keys keys = new Keys("cl");
                await().atMost(Duration.ofSeconds(5)).until(() -> {
                    Map<String, String> h = await(c.async().hgetall(keys.slots("gpu")));
                    return "4".equals(h.get("only"));
                });
                node.queued("llama3:8b", 1, 0, System.nanoTime(), 1, 1);
                await().atMost(Duration.ofSeconds(5)).until(() -> await(node.globalQueue("llama3:8b", 5)).size() == 1);
                assertThat(node.grantFor("gpu").granted()).isEqualTo(4);
            } finally {
                node.close();
                client.shutdown();
            }
        }
    }
}

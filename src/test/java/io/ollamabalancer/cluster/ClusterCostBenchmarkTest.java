package io.ollamabalancer.cluster;

import io.ollamabalancer.estimate.LearnedState;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.ollamabalancer.testing.RedisServerProcess;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.ollamabalancer.cluster.TestRedis.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Measures, without asserting timings (the machine is shared): the Redis round trip of one slot sync (acquire and
 * release), a bare PING for comparison, and what the dispatch path itself pays in cluster mode — the scheduler's
 * hook calls and the grant read, none of which touches the network. Prints p50/p99 in microseconds.
 */
class ClusterCostBenchmarkTest {
    private static final int WARMUP = 300;
    private static final int ROUNDS = 3000;

    @Test
    void slotSyncRoundTripsAndDispatchPathCost() throws Exception {
        try (RedisServerProcess redis = RedisServerProcess.startOrSkip(); TestRedis clients = new TestRedis(redis)) {
            RedisAsyncCommands<String, String> c = clients.connect();
            Keys keys = new Keys("bench-" + UUID.randomUUID());
            SlotLedger ledger = new SlotLedger(keys, "bench", 60_000, 1000);
            List<String> models = List.of("llama3:8b", "qwen2:7b", "mistral:7b");
            Histogram acquire = new Histogram(3);
            Histogram release = new Histogram(3);
            Histogram ping = new Histogram(3);
            for (int i = 0; i < WARMUP + ROUNDS; i++) {
                long t0 = System.nanoTime();
                SlotLedger.Result got = await(ledger.sync(c, new SlotLedger.Request("gpu", 4, 0, 1, 1,
                        QueueScore.of(0, System.currentTimeMillis()), 2, true, models), ""));
                long t1 = System.nanoTime();
                await(ledger.sync(c, new SlotLedger.Request("gpu", 4, 0, 0, 0, QueueScore.NONE, 2, false, models), ""));
                long t2 = System.nanoTime();
                await(c.ping());
                long t3 = System.nanoTime();
                assertThat(got.held()).isEqualTo(1);
                if (i >= WARMUP) {
                    acquire.recordValue(t1 - t0);
                    release.recordValue(t2 - t1);
                    ping.recordValue(t3 - t2);
                }
            }
            report("slot sync, acquire", acquire);
            report("slot sync, release", release);
            report("PING (baseline)", ping);

            ClusterNodeTest.FakeView view = new ClusterNodeTest.FakeView();
            ClusterConfig config = ClusterConfig.fromUrl(redis.url()).toBuilder()
                    .namespace("bench-" + UUID.randomUUID()).replicaId("bench").build();
            ClusterNode node = ClusterNode.start(config, view, LearnedState.NONE, HealthListener.NONE, null);
            try {
                node.ready().get(5, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(5)).until(() -> node.grantFor("gpu").granted() == 4);
                SlotGrant grant = node.grantFor("gpu");
                Histogram hooks = new Histogram(3);
                int sink = 0;
                for (int i = 0; i < 200_000; i++) {
                    long t0 = System.nanoTime();
                    // What one request costs the dispatch path: queued, a grant check, left, a freed slot.
                    node.queued("llama3:8b", i, 0, t0, 100, 200);
                    sink += grant.granted();
                    node.left(i);
                    node.slotFreed("gpu");
                    long t1 = System.nanoTime();
                    if (i >= 20_000) {
                        hooks.recordValue(t1 - t0);
                    }
                }
                assertThat(sink).isPositive();
                report("dispatch-path hooks per request (no I/O)", hooks);
            } finally {
                node.close();
            }
        }
    }

    private static void report(String what, Histogram h) {
        System.out.printf("cluster cost: %-42s p50 %7.1f us  p99 %7.1f us  max %8.1f us  (n=%d)%n", what,
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0,
                h.getTotalCount());
    }
}

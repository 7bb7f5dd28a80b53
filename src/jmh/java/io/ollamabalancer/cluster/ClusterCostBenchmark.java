package io.ollamabalancer.cluster;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.ollamabalancer.estimate.LearnedState;
import io.ollamabalancer.testing.RedisServerProcess;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.ollamabalancer.cluster.TestRedis.await;

/**
 * What cluster mode costs (issue #6, moved here from the unit suite by issue #11): the Redis round trip of one slot
 * sync (acquire, then release) against a real {@code redis-server} started on a free port, a bare {@code PING} for
 * comparison, and what the dispatch path itself pays per request in cluster mode — the scheduler's hook calls and the
 * grant read, none of which touches the network. Sample mode gives the percentiles.
 *
 * <p>Needs {@code /usr/bin/redis-server}. Not thread-safe: one benchmark thread.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = "-Xmx512m")
public class ClusterCostBenchmark {
    private static final List<String> MODELS = List.of("llama3:8b", "qwen2:7b", "mistral:7b");

    /** One redis-server, one connection and a slot ledger for the whole run. */
    @State(Scope.Benchmark)
    public static class Redis {
        RedisServerProcess server;
        TestRedis clients;
        RedisAsyncCommands<String, String> commands;
        SlotLedger ledger;

        @Setup(Level.Trial)
        public void start() throws Exception {
            if (!Files.isExecutable(RedisServerProcess.BINARY)) {
                throw new IllegalStateException("redis-server is not installed at " + RedisServerProcess.BINARY);
            }
            server = RedisServerProcess.startOrSkip();
            clients = new TestRedis(server);
            commands = clients.connect();
            ledger = new SlotLedger(new Keys("bench-" + UUID.randomUUID()), "bench", 60_000, 1000);
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            clients.close();
            server.close();
        }
    }

    /** A cluster node joined to its own redis-server, holding all four slots of one backend. */
    @State(Scope.Benchmark)
    public static class Node {
        RedisServerProcess server;
        ClusterNode node;
        SlotGrant grant;
        long id;

        @Setup(Level.Trial)
        public void start() throws Exception {
            server = RedisServerProcess.startOrSkip();
            ClusterConfig config = ClusterConfig.fromUrl(server.url()).toBuilder()
                    .namespace("bench-" + UUID.randomUUID()).replicaId("bench").build();
            node = ClusterNode.start(config, new ClusterNodeTest.FakeView(), LearnedState.NONE, HealthListener.NONE,
                    null);
            node.ready().get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (node.grantFor("gpu").granted() < 4) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the node was never granted the backend's slots");
                }
                Thread.sleep(10);
            }
            grant = node.grantFor("gpu");
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            node.close();
            server.close();
        }
    }

    @Benchmark
    public SlotLedger.Result slotSyncAcquire(Redis r) throws Exception {
        SlotLedger.Result got = await(r.ledger.sync(r.commands, new SlotLedger.Request("gpu", 4, 0, 1, 1,
                QueueScore.of(0, System.currentTimeMillis()), 2, true, MODELS), ""));
        await(r.ledger.sync(r.commands, new SlotLedger.Request("gpu", 4, 0, 0, 0, QueueScore.NONE, 2, false, MODELS),
                ""));
        return got;
    }

    @Benchmark
    public String ping(Redis r) throws Exception {
        return await(r.commands.ping());
    }

    /** What one request costs the dispatch path in cluster mode: queued, a grant check, left, a freed slot. */
    @Benchmark
    public int dispatchPathHooks(Node n) {
        long i = ++n.id;
        n.node.queued("llama3:8b", i, 0, System.nanoTime(), 100, 200);
        int granted = n.grant.granted();
        n.node.left(i);
        n.node.slotFreed("gpu", n.node.slotFreeing("gpu"));
        return granted;
    }
}

package io.ollamabalancer.cluster;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static io.ollamabalancer.cluster.TestRedis.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The queue mirror against a real redis-server: cross-replica order, coalescing, removal, rebuild. */
class QueueMirrorTest {
    private static final String MODEL = "llama3:8b";

    private static RedisServerProcess redis;
    private static TestRedis clients;

    private final Keys keys = new Keys("t-" + UUID.randomUUID());
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final ClusterThread thread = new ClusterThread("mirror-test");
    private final AtomicInteger published = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServerProcess.startOrSkip();
        clients = new TestRedis(redis);
    }

    @AfterAll
    static void stop() throws Exception {
        if (clients != null) {
            clients.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void closeThread() {
        thread.close();
        assertThat(failures).isEmpty();
    }

    private QueueMirror mirror(String replica, long flushDelayMillis) throws Exception {
        RedisAsyncCommands<String, String> c = clients.connect();
        await(new Membership(keys, replica, 60_000, 1000, 180_000).renew(c));
        RedisAccess access = new RedisAccess() {
            @Override
            public RedisClusterAsyncCommands<String, String> joinedOrNull() {
                return c;
            }

            @Override
            public void failed(String what, Throwable error) {
                failures.add(error);
            }
        };
        return new QueueMirror(keys, replica, 180_000, thread, Duration.ofMillis(flushDelayMillis).toNanos(), access,
                published::incrementAndGet);
    }

    private record Item(String replica, long id, int priority, long order, long seq) {
    }

    @Test
    void entriesOfTwoReplicasInterleaveInTheLocalQueueKeyOrder() throws Exception {
        QueueMirror a = mirror("replica-a", 1);
        QueueMirror b = mirror("replica-b", 1);
        Random rnd = new Random(42);
        long base = System.currentTimeMillis();
        List<Item> items = new ArrayList<>();
        int[] priorities = {-10, 0, 0, 10, 100};
        for (int i = 0; i < 60; i++) {
            String replica = rnd.nextBoolean() ? "replica-a" : "replica-b";
            int p = priorities[rnd.nextInt(priorities.length)];
            long order = base - 100_000 + i * 7L + rnd.nextInt(5) * 1000L;
            items.add(new Item(replica, 1000 + i, p, order, i));
            (replica.equals("replica-a") ? a : b).added(MODEL, 1000 + i, QueueScore.of(p, order), 12, 34);
        }
        RedisAsyncCommands<String, String> reader = clients.connect();
        await().atMost(Duration.ofSeconds(5)).until(() -> await(a.globalQueue(reader, MODEL, 1000)).size() == 60);

        // What ModelQueue would say if all the requests were in one local queue.
        List<Item> expected = new ArrayList<>(items);
        expected.sort(Comparator.comparing(x -> new ModelQueue.QueueKey(x.priority(), x.order(), x.seq())));
        List<MirroredRequest> mirrored = await(a.globalQueue(reader, MODEL, 1000));
        for (int i = 0; i < expected.size(); i++) {
            Item want = expected.get(i);
            MirroredRequest got = mirrored.get(i);
            assertThat(got.replica()).as("position %d", i).isEqualTo(want.replica());
            assertThat(got.requestId()).as("position %d", i).isEqualTo(want.id());
            assertThat(got.priority()).isEqualTo(want.priority());
            assertThat(got.orderEpochMillis()).isEqualTo(want.order());
            assertThat(got.promptTokens()).isEqualTo(12);
            assertThat(got.outputTokens()).isEqualTo(34);
        }
    }

    @Test
    void aRequestThatLeavesBeforeTheFlushNeverReachesRedis() throws Exception {
        QueueMirror a = mirror("replica-a", 200);
        redis.command("CONFIG", "SET", "slowlog-log-slower-than", "0");
        redis.command("SLOWLOG", "RESET");
        try {
            a.added(MODEL, 777, QueueScore.of(0, System.currentTimeMillis()), 1, 1);
            a.removed(777);
            await().pollDelay(Duration.ofMillis(400)).atMost(Duration.ofSeconds(2)).until(() -> true);
            assertThat(published.get()).as("nothing still waiting, nothing to tell the broker").isZero();
            a.added(MODEL, 778, QueueScore.of(0, System.currentTimeMillis()), 1, 1);
            RedisAsyncCommands<String, String> reader = clients.connect();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> await(a.globalQueue(reader, MODEL, 10)).size() == 1);
            assertThat(await(a.globalQueue(reader, MODEL, 10)).get(0).requestId()).isEqualTo(778);
            assertThat(published.get()).as("a request still waiting at the flush wakes the broker").isEqualTo(1);
            String log = redis.command("SLOWLOG", "GET", "1000");
            assertThat(log).contains("778|1|1").doesNotContain("777|1|1");
        } finally {
            redis.command("CONFIG", "SET", "slowlog-log-slower-than", "10000");
        }
    }

    @Test
    void removedEntriesLeaveRedisAndAnEmptyModelLeavesTheWaitingSet() throws Exception {
        QueueMirror a = mirror("replica-a", 1);
        RedisAsyncCommands<String, String> reader = clients.connect();
        a.added(MODEL, 1, QueueScore.of(0, System.currentTimeMillis()), 0, 0);
        a.added(MODEL, 2, QueueScore.of(0, System.currentTimeMillis()), 0, 0);
        await().atMost(Duration.ofSeconds(5)).until(() -> await(reader.zcard(keys.queue("replica-a", MODEL))) == 2);
        assertThat(await(reader.smembers(keys.waitingModels("replica-a")))).containsExactly(MODEL);
        assertThat(await(reader.pttl(keys.queue("replica-a", MODEL)))).isPositive();
        a.removed(1);
        a.removed(2);
        a.removed(3);
        await().atMost(Duration.ofSeconds(5)).until(() -> await(reader.exists(keys.queue("replica-a", MODEL))) == 0);
        assertThat(await(reader.smembers(keys.waitingModels("replica-a")))).isEmpty();
        assertThat(a.size()).isZero();
    }

    @Test
    void aRebuildRestoresTheMirrorAfterRedisLostIt() throws Exception {
        QueueMirror a = mirror("replica-a", 1);
        RedisAsyncCommands<String, String> reader = clients.connect();
        for (int i = 0; i < 5; i++) {
            a.added(MODEL, i, QueueScore.of(0, System.currentTimeMillis() + i), 0, 0);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> await(reader.zcard(keys.queue("replica-a", MODEL))) == 5);
        await(reader.del(keys.queue("replica-a", MODEL), keys.waitingModels("replica-a")));
        a.removed(0);
        a.markResync();
        await().atMost(Duration.ofSeconds(5)).until(() -> await(reader.zcard(keys.queue("replica-a", MODEL))) == 4);
        assertThat(await(reader.zrange(keys.queue("replica-a", MODEL), 0, -1)))
                .containsExactly("1|0|0", "2|0|0", "3|0|0", "4|0|0");
        assertThat(await(reader.smembers(keys.waitingModels("replica-a")))).containsExactly(MODEL);
    }
}

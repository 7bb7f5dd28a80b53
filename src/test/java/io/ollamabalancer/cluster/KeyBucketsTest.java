package io.ollamabalancer.cluster;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.ollamabalancer.auth.Admission;
import io.ollamabalancer.auth.ApiKey;
import io.ollamabalancer.auth.ApiKeys;
import io.ollamabalancer.auth.KeyState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static io.ollamabalancer.cluster.TestRedis.await;
import static org.assertj.core.api.Assertions.assertThat;

/** API keys' shared buckets against a real redis-server: the lease script, and two replicas spending one bucket. */
class KeyBucketsTest {
    private static TestRedis clients;

    private final Keys keys = new Keys("kb-" + UUID.randomUUID());
    private final List<ClusterThread> threads = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        clients = TestRedis.startOrSkip();
    }

    @AfterAll
    static void stop() {
        if (clients != null) {
            clients.close();
        }
    }

    @AfterEach
    void closeThreads() {
        threads.forEach(ClusterThread::close);
    }

    /** {grant, waitMillis} of one lease. */
    private long[] lease(RedisAsyncCommands<String, String> c, long perMinute, long ask, long back, long need)
            throws Exception {
        List<Object> r = await(KeyBuckets.LEASE.run(c, new String[] {keys.keyBucket("team:rpm")},
                Long.toString(perMinute), Long.toString(ask), Long.toString(back), Long.toString(need),
                Long.toString(KeyBuckets.BUCKET_TTL_MILLIS)));
        return new long[] {LuaScript.asLong(r.get(0)), LuaScript.asLong(r.get(1))};
    }

    @Test
    void theScriptGrantsWhatTheBucketHoldsAndSaysWhenItHoldsMore() throws Exception {
        RedisAsyncCommands<String, String> c = clients.connect();
        // 600 a minute: 10 a second, one every 100 ms. A bucket Redis never saw is full.
        assertThat(lease(c, 600, 550, 0, 1)).containsExactly(550, 0);
        long[] rest = lease(c, 600, 100, 0, 100);
        assertThat(rest[0]).as("what is left (plus what refilled meanwhile)").isBetween(50L, 70L);
        assertThat(rest[1]).as("until the rest of the need refills").isBetween(1L, (100 - rest[0]) * 100 + 100);
        // Given back: capped at the limit.
        assertThat(lease(c, 600, 0, 5_000, 0)).containsExactly(0, 0);
        assertThat(lease(c, 600, 5_000, 0, 1)[0]).isEqualTo(600);
        // A reload halved the limit: the level is capped at once, and refills at the new rate.
        lease(c, 600, 0, 600, 0);
        assertThat(lease(c, 300, 1_000, 0, 1)[0]).isEqualTo(300);
        long[] empty = lease(c, 300, 10, 0, 10);
        assertThat(empty[1]).as("10 units at 5 a second").isBetween(1_500L, 2_000L);
        assertThat(Long.parseLong(clients.server().command("PTTL", keys.keyBucket("team:rpm"))))
                .isBetween(1L, KeyBuckets.BUCKET_TTL_MILLIS);
    }

    /** One replica's side: its own connection, cluster thread and membership, and the keys spending through them. */
    private ApiKeys replica(String id, ApiKey key, RedisAsyncCommands<String, String> c, boolean[] up) {
        ClusterThread thread = new ClusterThread("kb-" + id);
        threads.add(thread);
        Membership m = new Membership(keys, id, 30_000, 1000, 90_000);
        RedisAccess access = new RedisAccess() {
            @Override
            public RedisClusterAsyncCommands<String, String> joinedOrNull() {
                return up[0] ? c : null;
            }

            @Override
            public void failed(String what, Throwable error) {
                throw new AssertionError(what, error);
            }
        };
        ApiKeys k = new ApiKeys(List.of(key), System::nanoTime);
        k.shareBuckets(new KeyBuckets(keys, m, access, thread, 0));
        return k;
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void twoReplicasSpendingOneBucketAdmitItsLimitTogether() throws Exception {
        ApiKey key = new ApiKey("team", sha256("sk-team"), 30, 0, 0, List.of(), null);
        boolean[] up = {true};
        ApiKeys a = replica("a", key, clients.connect(), up);
        ApiKeys b = replica("b", key, clients.connect(), up);
        KeyState ka = a.authenticate("Bearer sk-team");
        KeyState kb = b.authenticate("Bearer sk-team");
        AtomicLong ids = new AtomicLong();
        long started = System.nanoTime();
        int[] admitted = new int[2];
        for (int i = 0; i < 200; i++) {
            boolean onA = i % 3 != 0;
            Admission adm = (onA ? a : b).admit(onA ? ka : kb, null, 0, ids.incrementAndGet());
            if (adm.admitted()) {
                admitted[onA ? 0 : 1]++;
                adm.release();
            } else {
                assertThat(adm.retryAfterSeconds()).isPositive();
            }
            Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        int total = admitted[0] + admitted[1];
        System.out.printf("key buckets: %d + %d admitted of 200 at 30/min over %.1f s%n", admitted[0], admitted[1],
                seconds);
        // 30 in the bucket, half a unit refilled a second, and a chunk (2) each on credit.
        assertThat(total).isLessThanOrEqualTo(30 + (int) Math.ceil(seconds / 2) + 2 * 2);
        // Each replica's lease of at most a chunk (2) may be left unspent.
        assertThat(total).isGreaterThanOrEqualTo(30 - 4);
        assertThat(admitted[0]).as("the busier replica took more than half").isGreaterThan(15);
    }

    /** Scripts run by the test's Redis so far (EVALSHA and EVAL), from INFO commandstats. */
    private static long scriptCalls() throws Exception {
        long n = 0;
        for (String line : clients.server().command("INFO", "commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
                String calls = line.substring(line.indexOf("calls=") + 6);
                n += Long.parseLong(calls.substring(0, calls.indexOf(',')));
            }
        }
        return n;
    }

    @Test
    void anAdmissionWithLocalHeadroomRunsNoScript() throws Exception {
        // 120,000 a minute over two replicas: chunks of 7,500.
        ApiKey key = new ApiKey("busy", sha256("sk-busy"), 120_000, 0, 0, List.of(), null);
        boolean[] up = {true};
        ApiKeys a = replica("a", key, clients.connect(), up);
        ApiKeys b = replica("b", key, clients.connect(), up);
        KeyState ka = a.authenticate("Bearer sk-busy");
        KeyState kb = b.authenticate("Bearer sk-busy");
        long before = scriptCalls();
        int admitted = 0;
        long started = System.nanoTime();
        for (int i = 0; i < 40_000; i++) {
            Admission adm = i % 2 == 0 ? a.admit(ka, null, 0, i) : b.admit(kb, null, 0, i);
            if (adm.admitted()) {
                admitted++;
                adm.release();
            }
        }
        double micros = (System.nanoTime() - started) / 1e3 / 40_000;
        long scripts = scriptCalls() - before;
        System.out.printf("key buckets: %d of 40000 admitted with %d lease scripts, %.2f us per admission%n",
                admitted, scripts, micros);
        assertThat(admitted).isGreaterThan(39_000);
        // A chunk of 7,500 per script (and the first ask of each replica), not one per admission.
        assertThat(scripts).isLessThanOrEqualTo(40_000 / 7_500 + 4);
    }
}

package io.ollamabalancer.cluster;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.ollamabalancer.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every way a grant grows must wake the requests waiting for it, against a real redis-server. A grant can grow
 * without any sync: when Redis kept more than the broker asked for (a dispatch raced a release and Redis never
 * takes a running slot away), the broker's target sits below the holding, and a later pass only raises the target.
 * If nobody hears of that, a request waiting here stays queued beside an idle slot until something else happens on
 * this replica — with nothing else running, indefinitely.
 */
class SlotBrokerWakeTest {
    private static final String GPU = "gpu";

    private RedisServerProcess redis;
    private TestRedis clients;
    private final Keys keys = new Keys("wake-" + UUID.randomUUID());
    private final ClusterThread thread = new ClusterThread("wake-test");

    @BeforeEach
    void start() throws Exception {
        redis = RedisServerProcess.startOrSkip();
        clients = new TestRedis(redis);
    }

    @AfterEach
    void stop() throws Exception {
        thread.close();
        clients.close();
        redis.close();
    }

    /** One backend of 4 slots; the test sets what runs and waits, and may script the next reads of inUse. */
    private static final class ScriptedView implements LocalView {
        volatile int inUse;
        volatile int waiting;
        final Deque<Integer> nextInUseReads = new ArrayDeque<>();
        final AtomicInteger wakes = new AtomicInteger();

        @Override
        public Map<String, Integer> slotLimits() {
            return Map.of(GPU, 4);
        }

        @Override
        public int inUse(String backend) {
            Integer scripted = nextInUseReads.poll();
            return scripted != null ? scripted : inUse;
        }

        @Override
        public Collection<String> models(String backend) {
            return Set.of("m");
        }

        @Override
        public Demand demand(String backend) {
            return waiting == 0 ? Demand.NONE : new Demand(waiting, QueueScore.of(0, 0));
        }

        @Override
        public void capacityGained() {
            wakes.incrementAndGet();
        }
    }


    @Test
    void aGrantRaisedBackToWhatRedisStillHoldsWakesTheWaitingRequests() throws Exception {
        RedisAsyncCommands<String, String> conn = clients.connect();
        // Two live replicas: a's fair share of the 4 slots is 2 (b only has to be alive).
        Membership ma = new Membership(keys, "a", 30_000, 7000, 9000);
        Membership mb = new Membership(keys, "b", 30_000, 7000, 9000);
        TestRedis.await(ma.renew(conn));
        TestRedis.await(mb.renew(conn));
        TestRedis.await(ma.renew(conn));
        ClusterConfig config = ClusterConfig.fromUrl("redis://127.0.0.1:" + redis.port()).toBuilder()
                .replicaId("a").leaseTtl(Duration.ofSeconds(30)).build();
        SlotLedger ledger = new SlotLedger(keys, "a", config.leaseTtl().toMillis(), config.settleTime().toMillis());
        RedisAccess access = BrokerTests.access(conn);
        ScriptedView view = new ScriptedView();
        SlotBroker a = new SlotBroker(config, ledger, ma, view, thread, access, () -> { }, () -> { }, () -> { },
                System::nanoTime);
        SlotGrant grant = a.grantFor(GPU);

        // Four requests wait: a acquires all 4 slots and starts them.
        view.waiting = 4;
        BrokerTests.onThread(thread, () -> {
            a.leaseRenewed(System.nanoTime());
            a.join();
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> grant.granted() == 4);
        view.waiting = 0;
        view.inUse = 4;

        // Two finish: the broker lowers its target to its share (2) and releases, but two dispatches raced the
        // release, so Redis is told 4 run and keeps all 4 for a.
        view.inUse = 2;
        BrokerTests.onThread(thread, () -> {
            view.nextInUseReads.add(2);
            view.nextInUseReads.add(4);
            a.reconcileAll();
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> "4".equals(conn.hget(keys.slots(GPU), "a").get()));
        assertThat(grant.granted()).as("the target, below the holding").isEqualTo(2);

        // Those two finished after all; one new request waits. The next pass raises the target within what Redis
        // already holds for a: the waiting request must hear of the slot.
        view.inUse = 2;
        view.waiting = 1;
        int wakesBefore = view.wakes.get();
        BrokerTests.onThread(thread, () -> {
            a.reconcileAll();
            return null;
        });
        assertThat(grant.granted()).isGreaterThan(view.inUse);
        assertThat(view.wakes.get()).as("waiting requests told the grant grew").isGreaterThan(wakesBefore);
    }
}

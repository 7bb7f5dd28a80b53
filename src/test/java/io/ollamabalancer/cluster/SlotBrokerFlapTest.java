package io.ollamabalancer.cluster;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.ollamabalancer.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A replica that loses Redis again right after a rejoin, before its first sync there answered (what 250 ms command
 * timeouts do on a starved machine), against a real redis-server. Its lease was renewed by the rejoin, so Redis
 * still reserves its slots from the other replicas: it must keep using them, or they sit idle while its requests
 * wait — for as long as it keeps flapping.
 */
class SlotBrokerFlapTest {
    private static final String GPU = "gpu";

    private RedisServerProcess redis;
    private TestRedis clients;
    private final Keys keys = new Keys("flap-" + UUID.randomUUID());
    private final ClusterThread thread = new ClusterThread("flap-test");

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

    private SlotBroker broker(String me, Membership membership, RedisAsyncCommands<String, String> redis) {
        ClusterConfig config = ClusterConfig.fromUrl(redis == null ? "redis://127.0.0.1:1" : "redis://127.0.0.1:"
                + this.redis.port()).toBuilder().replicaId(me).leaseTtl(Duration.ofSeconds(3)).build();
        SlotLedger ledger = new SlotLedger(keys, me, config.leaseTtl().toMillis(), config.settleTime().toMillis());
        RedisAccess access = BrokerTests.access(redis);
        return new SlotBroker(config, ledger, membership, new BrokerTests.TwoSlotView(GPU), thread, access, () -> { }, () -> { },
                () -> { }, System::nanoTime);
    }


    @Test
    void aReplicaLosingRedisBeforeItsFirstSyncAfterARejoinKeepsWhatRedisStillReservesForIt() throws Exception {
        RedisAsyncCommands<String, String> conn = clients.connect();
        Membership ma = new Membership(keys, "a", 3000, 7000, 9000);
        Membership mb = new Membership(keys, "b", 3000, 7000, 9000);
        TestRedis.await(ma.renew(conn));
        TestRedis.await(mb.renew(conn));
        TestRedis.await(ma.renew(conn));
        SlotBroker a = broker("a", ma, conn);
        SlotBroker b = broker("b", mb, conn);
        BrokerTests.onThread(thread, () -> {
            a.leaseRenewed(System.nanoTime());
            a.join();
            b.leaseRenewed(System.nanoTime());
            b.join();
            return null;
        });
        // Each keeps its fair share (1 of 2) as idle headroom, confirmed by the ledger.
        await().atMost(Duration.ofSeconds(5)).until(() -> "1".equals(conn.hget(keys.slots(GPU), "a").get())
                && "1".equals(conn.hget(keys.slots(GPU), "b").get()) && a.grantFor(GPU).granted() == 1);

        // A timeout: alone, keeping what Redis reserves for it. Then a rejoin (its lease renewed) whose first sync
        // is still unanswered when the next timeout puts it alone again.
        int flapped = BrokerTests.onThread(thread, () -> {
            a.goAlone();
            a.leaseRenewed(System.nanoTime());
            a.join();
            a.goAlone();
            return a.grantFor(GPU).granted();
        });

        assertThat(conn.hget(keys.slots(GPU), "a").get()).as("Redis still reserves a's slot").isEqualTo("1");
        assertThat(flapped).as("a may use the slot Redis reserves for it").isEqualTo(1);
    }
}

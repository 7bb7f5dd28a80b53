package io.ollamabalancer.cluster;

import io.ollamabalancer.estimate.LearnedState;
import io.ollamabalancer.estimate.WeightedStats;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.ollamabalancer.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.ollamabalancer.cluster.TestRedis.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Whole nodes against a real redis-server: outage and rejoin, data loss, shared statistics, shared health. */
class ClusterNodeTest {
    private static final String GPU = "gpu";
    private static final String MODEL = "llama3:8b";

    private RedisServerProcess redis;
    private TestRedis clients;
    private final String namespace = "node-" + UUID.randomUUID();
    private final Keys keys = new Keys(namespace);
    private final List<ClusterNode> nodes = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        redis = RedisServerProcess.startOrSkip();
        clients = new TestRedis(redis);
    }

    @AfterEach
    void stop() throws Exception {
        nodes.forEach(ClusterNode::close);
        clients.close();
        redis.close();
    }

    /** A fleet of one backend seen from one replica, with demand set by the test. */
    static final class FakeView implements LocalView {
        final Map<String, Integer> limits = new ConcurrentHashMap<>(Map.of(GPU, 4));
        final AtomicInteger inUse = new AtomicInteger();
        volatile Demand demand = Demand.NONE;
        final AtomicInteger capacityGained = new AtomicInteger();

        @Override
        public Map<String, Integer> slotLimits() {
            return limits;
        }

        @Override
        public int inUse(String backend) {
            return inUse.get();
        }

        @Override
        public Collection<String> models(String backend) {
            return Set.of(MODEL);
        }

        @Override
        public Demand demand(String backend) {
            return demand;
        }

        @Override
        public void capacityGained() {
            capacityGained.incrementAndGet();
        }
    }

    static final class FakeLearned implements LearnedState {
        volatile Map<String, WeightedStats> own = Map.of();
        volatile Map<String, WeightedStats> absorbed = Map.of();

        @Override
        public Map<String, WeightedStats> ownObservations() {
            return own;
        }

        @Override
        public void absorb(Map<String, WeightedStats> others) {
            absorbed = others;
        }
    }

    static final class Events implements HealthListener {
        final List<String> seen = new CopyOnWriteArrayList<>();

        @Override
        public void ejectedElsewhere(String backend, Duration remaining, String byReplica, String reason) {
            seen.add("down " + backend + " by " + byReplica + " (" + reason + ") " + (remaining.toMillis() > 3000));
        }

        @Override
        public void recoveredElsewhere(String backend) {
            seen.add("up " + backend);
        }
    }

    private ClusterNode node(String id, LocalView view, LearnedState learned, HealthListener health)
            throws Exception {
        ClusterNode n = startNode(id, view, learned, health);
        await().atMost(Duration.ofSeconds(15)).until(n::isJoined);
        return n;
    }

    /** Starts a node and waits for its first attempt to join (which a starved machine may fail). */
    private ClusterNode startNode(String id, LocalView view, LearnedState learned, HealthListener health)
            throws Exception {
        ClusterConfig c = ClusterConfig.fromUrl(redis.url()).toBuilder().namespace(namespace).replicaId(id)
                .leaseTtl(Duration.ofMillis(1200)).commandTimeout(Duration.ofMillis(150))
                .refreshInterval(Duration.ofMillis(30)).mirrorFlushDelay(Duration.ofMillis(1))
                .statsInterval(Duration.ofMillis(200)).healthPollInterval(Duration.ofMillis(200))
                .reconnectBackoffMax(Duration.ofMillis(300)).build();
        ClusterNode n = ClusterNode.start(c, view, learned, health, null);
        nodes.add(n);
        n.ready().get(15, TimeUnit.SECONDS);
        return n;
    }

    @Test
    void redisGoingAwayLeavesEachReplicaItsShareAndAnEmptyRedisIsRebuiltOnReturn() throws Exception {
        FakeView viewA = new FakeView();
        FakeView viewB = new FakeView();
        FakeLearned learnedA = new FakeLearned();
        FakeLearned learnedB = new FakeLearned();
        learnedA.own = Map.of("speed|gpu|llama3", new WeightedStats(5, Map.of("decodeTps", 42.0)));
        ClusterNode a = node("a", viewA, learnedA, HealthListener.NONE);
        ClusterNode b = node("b", viewB, learnedB, HealthListener.NONE);
        await().atMost(Duration.ofSeconds(5)).until(() -> a.liveReplicas() == 2 && b.liveReplicas() == 2);
        // Idle replicas each keep their share as headroom.
        await().atMost(Duration.ofSeconds(5)).until(() -> a.grantFor(GPU).granted() == 2
                && b.grantFor(GPU).granted() == 2);

        viewA.inUse.set(1);
        long order = System.nanoTime();
        a.queued(MODEL, 1, 0, order, 10, 20);
        viewA.demand = new LocalView.Demand(1, QueueScore.of(0, WallClock.SYSTEM.epochMillis(order)));
        await().atMost(Duration.ofSeconds(5)).until(() -> await(a.globalQueue(MODEL, 10)).size() == 1);

        redis.stop();
        await().atMost(Duration.ofSeconds(5)).until(() -> !a.isJoined() && !b.isJoined());
        int shareA = FairShare.of(4, List.of("a", "b"), "a", GPU, 0);
        assertThat(a.grantFor(GPU).granted()).isEqualTo(shareA);
        assertThat(a.grantFor(GPU).granted() + b.grantFor(GPU).granted()).isEqualTo(4);
        // The scheduler's calls keep working while Redis is away.
        a.queued(MODEL, 2, 5, System.nanoTime(), 10, 20);
        a.left(99);
        a.slotFreed(GPU, a.slotFreeing(GPU));

        redis.start();
        // Whoever rejoins first must not claim the whole backend while the other still runs on its share.
        await().atMost(Duration.ofSeconds(10)).until(() -> a.isJoined() || b.isJoined());
        assertThat(a.grantFor(GPU).granted() + b.grantFor(GPU).granted()).isLessThanOrEqualTo(4);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.isJoined() && b.isJoined());
        RedisAsyncCommands<String, String> c = clients.connect();
        await().atMost(Duration.ofSeconds(5)).until(() -> holding(c, "a") >= 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> await(a.globalQueue(MODEL, 10)).size() == 2);
        assertThat(await(a.globalQueue(MODEL, 10)).get(0).priority()).isEqualTo(5);
        await().atMost(Duration.ofSeconds(5)).until(() -> learnedB.absorbed.containsKey("speed|gpu|llama3"));
        assertThat(learnedB.absorbed.get("speed|gpu|llama3").values()).containsEntry("decodeTps", 42.0);
        assertThat(a.grantFor(GPU).granted() + b.grantFor(GPU).granted()).isLessThanOrEqualTo(4);
    }

    @Test
    void aReplicaCutOffAloneKeepsOnlyWhatRedisStillReservesForIt() throws Exception {
        FakeView idle = new FakeView();
        FakeView busy = new FakeView();
        ClusterNode a = node("a", idle, LearnedState.NONE, HealthListener.NONE);
        ClusterNode b = node("b", busy, LearnedState.NONE, HealthListener.NONE);
        await().atMost(Duration.ofSeconds(5)).until(() -> a.liveReplicas() == 2 && b.liveReplicas() == 2);
        // b runs two and has two waiting: a gives its idle headroom away, b ends up with all four slots.
        busy.inUse.set(2);
        long order = System.nanoTime();
        b.queued(MODEL, 1, 0, order, 1, 1);
        b.queued(MODEL, 2, 0, order, 1, 1);
        busy.demand = new LocalView.Demand(2, QueueScore.of(0, WallClock.SYSTEM.epochMillis(order)));
        await().atMost(Duration.ofSeconds(5)).until(() -> b.grantFor(GPU).granted() == 4);
        assertThat(a.grantFor(GPU).granted()).isZero();

        // a alone while its lease lives (and b still uses Redis): its share would be 2, but those slots are b's.
        a.simulateLinkFailure().get(5, TimeUnit.SECONDS);
        assertThat(a.grantFor(GPU).granted()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(a::isJoined);
        assertThat(a.grantFor(GPU).granted() + b.grantFor(GPU).granted()).isLessThanOrEqualTo(4);
    }

    @Test
    void aHungRedisIsTreatedAsGoneAndRejoinedWhenItAnswersAgain() throws Exception {
        FakeView view = new FakeView();
        ClusterNode a = node("a", view, LearnedState.NONE, HealthListener.NONE);
        redis.pause();
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> !a.isJoined());
            assertThat(a.grantFor(GPU).granted()).isEqualTo(4);
            assertThat(a.outages()).isEqualTo(1);
        } finally {
            redis.resume();
        }
        await().atMost(Duration.ofSeconds(10)).until(a::isJoined);
    }

    @Test
    void aTimeoutThatRedisAnswersRightAfterIsNoOutage() throws Exception {
        FakeView view = new FakeView();
        view.inUse.set(3);
        ClusterNode a = node("a", view, LearnedState.NONE, HealthListener.NONE);
        RedisAsyncCommands<String, String> c = clients.connect();
        await().atMost(Duration.ofSeconds(5)).until(() -> holding(c, "a") >= 3);

        // A reply that came too late (this process paused, say) while Redis is fine: the renewal sent right after
        // answers, so the replica stays joined and counts it. (A hung Redis fails that renewal too: see above.)
        a.simulateTimeout().get(5, TimeUnit.SECONDS);
        assertThat(a.isJoined()).isTrue();
        assertThat(a.outages()).isZero();
        assertThat(a.lateReplies()).isEqualTo(1);
        assertThat(holding(c, "a")).isGreaterThanOrEqualTo(3);
    }

    @Test
    void aRedisThatAnswersButCannotWriteIsTreatedAsGone() throws Exception {
        FakeView view = new FakeView();
        view.demand = new LocalView.Demand(2, QueueScore.of(0, System.currentTimeMillis()));
        ClusterNode a = node("a", view, LearnedState.NONE, HealthListener.NONE);
        // Out of memory under noeviction: every script that writes is refused with OOM, while the link is fine.
        redis.command("CONFIG", "SET", "maxmemory", "1");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> !a.isJoined());
            assertThat(a.grantFor(GPU).granted()).as("alone: its fair share, so its requests still run")
                    .isEqualTo(4);
        } finally {
            redis.command("CONFIG", "SET", "maxmemory", "0");
        }
        await().atMost(Duration.ofSeconds(10)).until(a::isJoined);
    }

    @Test
    void twoLiveProcessesUnderOneReplicaIdAreNoticed() throws Exception {
        ClusterNode alone = node("solo", new FakeView(), LearnedState.NONE, HealthListener.NONE);
        ClusterNode a1 = node("twin", new FakeView(), LearnedState.NONE, HealthListener.NONE);
        ClusterNode a2 = node("twin", new FakeView(), LearnedState.NONE, HealthListener.NONE);
        // Renewals every 400 ms (lease 1200 ms): each twin keeps finding the other's token on its id.
        await().atMost(Duration.ofSeconds(10)).until(() -> a1.idClashes() >= 2 && a2.idClashes() >= 2);
        assertThat(alone.idClashes()).isZero();
    }

    @Test
    void dataLostWithoutADisconnectIsRepairedAtTheNextRenewal() throws Exception {
        FakeView view = new FakeView();
        view.inUse.set(3);
        view.demand = new LocalView.Demand(0, QueueScore.NONE);
        ClusterNode a = node("a", view, LearnedState.NONE, HealthListener.NONE);
        a.queued(MODEL, 7, 0, System.nanoTime(), 1, 1);
        RedisAsyncCommands<String, String> c = clients.connect();
        await().atMost(Duration.ofSeconds(5)).until(() -> holding(c, "a") >= 3);
        await().atMost(Duration.ofSeconds(5)).until(() -> await(a.globalQueue(MODEL, 10)).size() == 1);

        await(c.flushall());
        assertThat(holding(c, "a")).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> holding(c, "a") >= 3);
        await().atMost(Duration.ofSeconds(5)).until(() -> await(a.globalQueue(MODEL, 10)).size() == 1);
    }

    private int holding(RedisAsyncCommands<String, String> c, String replica) throws Exception {
        String held = await(c.hget(keys.slots(GPU), replica));
        return held == null ? 0 : Integer.parseInt(held);
    }

    @Test
    void aReplicaStartedLateStartsWithTheOthersLearnedState() throws Exception {
        FakeLearned one = new FakeLearned();
        FakeLearned two = new FakeLearned();
        one.own = Map.of("speed|gpu|llama3", new WeightedStats(10, Map.of("decodeTps", 30.0, "prefillTps", 900.0)));
        two.own = Map.of("speed|gpu|llama3", new WeightedStats(30, Map.of("decodeTps", 50.0)),
                "outlen|llama3", new WeightedStats(4, Map.of("mean", 250.0)));
        node("one", new FakeView(), one, HealthListener.NONE);
        node("two", new FakeView(), two, HealthListener.NONE);
        RedisAsyncCommands<String, String> c = clients.connect();
        await().atMost(Duration.ofSeconds(5)).until(() -> await(c.hlen(keys.stat("speed|gpu|llama3"))) == 2);

        FakeLearned late = new FakeLearned();
        ClusterNode lateNode = startNode("late", new FakeView(), late, HealthListener.NONE);
        if (lateNode.isJoined()) {
            // Absorbed while joining, before the node reported ready: its first request routes on it.
            assertThat(late.absorbed).containsOnlyKeys("speed|gpu|llama3", "outlen|llama3");
        } else {
            await().atMost(Duration.ofSeconds(15)).until(() -> late.absorbed.size() == 2);
        }
        assertThat(late.absorbed).containsOnlyKeys("speed|gpu|llama3", "outlen|llama3");
        WeightedStats speed = late.absorbed.get("speed|gpu|llama3");
        assertThat(speed.weight()).isEqualTo(40.0);
        assertThat(speed.values().get("decodeTps")).isEqualTo((10 * 30.0 + 30 * 50.0) / 40);
        assertThat(speed.values().get("prefillTps")).isEqualTo(900.0);
        // A replica never absorbs its own records.
        await().atMost(Duration.ofSeconds(5)).until(() -> one.absorbed.containsKey("outlen|llama3"));
        assertThat(one.absorbed.get("speed|gpu|llama3").weight()).isEqualTo(30.0);
    }

    @Test
    void aBackendEjectedByOneReplicaIsSeenEjectedByTheOthers() throws Exception {
        Events atA = new Events();
        Events atB = new Events();
        ClusterNode a = node("a", new FakeView(), LearnedState.NONE, atA);
        node("b", new FakeView(), LearnedState.NONE, atB);

        a.backendEjected(GPU, Duration.ofSeconds(5), "connection refused");
        await().atMost(Duration.ofSeconds(10)).until(() -> atB.seen.contains(
                "down gpu by a (connection refused) true"));
        RedisAsyncCommands<String, String> c = clients.connect();
        assertThat(await(c.pttl(keys.down(GPU)))).isBetween(3000L, 5000L);

        a.backendRecovered(GPU);
        await().atMost(Duration.ofSeconds(10)).until(() -> atB.seen.contains("up gpu"));
        assertThat(await(c.exists(keys.down(GPU)))).isZero();
        assertThat(atA.seen).noneMatch(e -> e.startsWith("down"));
        assertThat(atB.seen).filteredOn(e -> e.startsWith("down")).hasSize(1);
    }
}

package io.ollamabalancer.it;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.server.BalancerServer;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import io.ollamabalancer.testing.BalancerProcess;
import io.ollamabalancer.testing.Closer;
import io.ollamabalancer.testing.ClusterLedger;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.RawClient;
import io.ollamabalancer.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #5 through real balancer replicas (not the {@code SimReplica} stand-in of {@code ClusterSimulationTest}):
 * replicas in front of one simulated backend of {@value #SLOTS} slots, sharing it through a real redis-server on a
 * free port. It shows that a high-priority request waiting on one replica starts before low-priority requests queued
 * earlier on another; that a replica killed with SIGKILL (its own JVM) gives its slots back within its lease; and
 * that after Redis restarts empty the replicas rejoin, the ledger lists them again, and the slot protocol works and
 * holds the limit as before.
 *
 * <p>The simulator has more slots than the balancer may use, so its peak concurrency is what the replicas together
 * really ran. Assertions are on order, limits and ledger contents; times only bound waits, generously, because the
 * machine may be small and busy.
 */
class ClusterReplicasIT {
    private static final String MODEL = "llama3.2:1b";
    private static final String BACKEND = "gpu";
    private static final int SLOTS = 2;
    /** Tokens per second per stream: a {@value #SHORT}-token answer takes 300 ms. */
    private static final int DECODE_TPS = 100;
    private static final int SHORT = 30;
    /** Far longer than any test runs: such a stream ends only when its client leaves or its replica dies. */
    private static final int ENDLESS = 100_000;
    /** The lease a replica started by the CLI gets: {@code ClusterConfig}'s default, which no setting changes. */
    private static final Duration LEASE = Duration.ofSeconds(3);
    private static final Duration LONG_WAIT = Duration.ofSeconds(30);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Closer open = new Closer();
    private RedisServerProcess redis;
    private ClusterLedger ledger;
    private OllamaSimulator gpu;

    /**
     * A fresh Redis and the one backend for each test. The backend's drawn answer lengths are capped at 5,000
     * tokens from a far larger mean, so every answer runs to its {@code num_predict} (or, for {@link #ENDLESS}, for
     * 50 s); one decode speed whatever the load.
     */
    @BeforeEach
    void start() throws Exception {
        redis = open.add(RedisServerProcess.startOrSkip());
        ledger = new ClusterLedger(redis);
        gpu = open.add(OllamaSimulator.start(SimulatorConfig.builder().name(BACKEND)
                .models(List.of(SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true)))
                .slots(4 * SLOTS).decodeTokensPerSecond(DECODE_TPS).decodeSlowdown(0).jitter(0).loadTimeMillis(5)
                .meanOutputTokens(1_000_000).maxOutputTokens(5_000).build()));
    }

    @AfterEach
    void stop() throws Exception {
        open.closeAll();
    }

    private BalancerServer replica() throws InterruptedException {
        return open.add(BalancerServer.start(BalancerConfig.builder().bind("127.0.0.1").port(0).backendsFile(null)
                        .modelRefreshInterval(Duration.ofMillis(500)).redisUrl(redis.url()).build(),
                List.of(new BackendConfig(BACKEND, URI.create(gpu.baseUrl()), SLOTS, null, true))));
    }

    private static String body(String prompt, int tokens, boolean stream) {
        return "{\"model\":\"" + MODEL + "\",\"prompt\":\"" + prompt + "\",\"stream\":" + stream
                + ",\"options\":{\"num_predict\":" + tokens + "}}";
    }

    /** A counter of the replica's {@code cluster} section in {@code /balancer/status}. */
    private static long clusterCount(BalancerServer replica, String field) throws Exception {
        HttpResponse<String> r = Http.get("http://127.0.0.1:" + replica.port() + "/balancer/status");
        return JSON.readTree(r.body()).path("cluster").path(field).asLong(-1);
    }

    private static CompletableFuture<HttpResponse<String>> generate(int port, String prompt, int tokens,
                                                                    String priority) {
        return Http.postAsync("http://127.0.0.1:" + port + "/api/generate", body(prompt, tokens, false),
                "X-Priority", priority, REQUEST_TIMEOUT);
    }

    /** An endless stream through {@code port}, left open until the test closes it (or its replica dies). */
    private RawClient endlessStream(int port, String prompt) throws IOException {
        return open.add(new RawClient(port)).post("/api/generate", body(prompt, ENDLESS, true), "X-Priority",
                "low");
    }

    private static void assertAllOk(List<CompletableFuture<HttpResponse<String>>> calls) throws Exception {
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.get(REQUEST_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(r.statusCode()).as("%s", r.body()).isEqualTo(200);
        }
    }

    /** When the simulator started this generation: the final chunk's {@code created_at} less its total duration. */
    private static Instant startedAt(HttpResponse<String> r) throws IOException {
        JsonNode done = JSON.readTree(r.body());
        return Instant.parse(done.get("created_at").asText()).minusNanos(done.get("total_duration").asLong());
    }

    @Test
    void highPriorityRequestsOnOneReplicaStartBeforeLowOnesQueuedEarlierOnAnother() throws Exception {
        BalancerServer a = replica();
        BalancerServer b = replica();
        await().atMost(LONG_WAIT).until(() -> ledger.liveReplicas().size() == 2);

        // A fills both slots with endless low-priority streams (B gives its idle share back when A asks).
        RawClient long1 = endlessStream(a.port(), "long 1");
        RawClient long2 = endlessStream(a.port(), "long 2");
        await().atMost(LONG_WAIT).until(() -> gpu.counters().activeGenerations() == SLOTS);
        assertThat(long1.readUntil("\"response\"")).startsWith("HTTP/1.1 200");
        assertThat(long2.readUntil("\"response\"")).startsWith("HTTP/1.1 200");

        // Low-priority requests queue on A first; only once Redis mirrors all of them do high ones queue on B.
        List<CompletableFuture<HttpResponse<String>>> lows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            lows.add(generate(a.port(), "low " + i, SHORT, "low"));
        }
        await().atMost(LONG_WAIT).until(() -> List.copyOf(ledger.mirroredQueues(MODEL).values()).equals(List.of(4)));
        List<CompletableFuture<HttpResponse<String>>> highs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            highs.add(generate(b.port(), "high " + i, SHORT, "high"));
        }
        // Both queues mirrored, and both replicas have synced since they queued (each recorded its shortfall,
        // which is how many of its waiting requests the other counts).
        await().atMost(LONG_WAIT).until(() -> ledger.mirroredQueues(MODEL).values().stream()
                .mapToInt(Integer::intValue).sum() == 8 && ledger.shortfalls(BACKEND).size() == 2);
        // A re-reads the others' waiting requests every refresh (100 ms) while it has some of its own; a second
        // lets even a starved machine run several of those refreshes before the slots free.
        Thread.sleep(1000);
        assertThat(gpu.counters().activeGenerations()).as("only A's streams run").isEqualTo(SLOTS);
        assertThat(lows).as("no low request ran yet").noneMatch(CompletableFuture::isDone);
        assertThat(highs).as("no high request ran while A held every slot").noneMatch(CompletableFuture::isDone);

        Instant released = Instant.now();
        long1.close();
        long2.close();
        assertAllOk(lows);
        assertAllOk(highs);

        record Start(String priority, Instant at) {
        }
        List<Start> starts = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> h : highs) {
            starts.add(new Start("high", startedAt(h.get())));
        }
        for (CompletableFuture<HttpResponse<String>> l : lows) {
            starts.add(new Start("low", startedAt(l.get())));
        }
        starts.sort(Comparator.comparing(Start::at));
        List<String> order = starts.stream().map(Start::priority).toList();
        String redisState = "Redis outages seen by A / B: " + clusterCount(a, "outages") + " / "
                + clusterCount(b, "outages") + ", late replies " + clusterCount(a, "lateReplies") + " / "
                + clusterCount(b, "lateReplies");
        System.out.printf("cluster priority: start order after A's slots freed %s, first %d ms after release; %s%n",
                order, Duration.between(released, starts.get(0).at()).toMillis(), redisState);
        assertThat(order).as("B's high-priority requests start before A's earlier-queued low ones (" + redisState
                        + ")").containsExactly("high", "high", "high", "high", "low", "low", "low", "low");
        // created_at (wall clock) less total_duration (monotonic clock): allow a few ms of difference.
        assertThat(starts.get(0).at()).as("nothing queued started before A's streams ended")
                .isAfter(released.minusMillis(20));
        assertThat(gpu.counters().peakConcurrentGenerations()).isEqualTo(SLOTS);
    }

    @Test
    void aReplicaKilledWithSigkillGivesItsSlotsBackWithinItsLease() throws Exception {
        long launched = System.nanoTime();
        BalancerProcess doomed = open.add(BalancerProcess.launch("[{\"name\":\"" + BACKEND + "\",\"url\":\""
                        + gpu.baseUrl() + "\",\"maxConcurrency\":" + SLOTS + "}]", "doomed",
                "--redis-url", redis.url(), "--model-refresh-interval", "500ms"));
        BalancerServer survivor = replica();
        doomed.awaitListening(Duration.ofSeconds(60));
        System.out.printf("cluster kill: the replica's own JVM listened %d ms after launch%n",
                (System.nanoTime() - launched) / 1_000_000);
        await().atMost(LONG_WAIT).until(() -> ledger.liveReplicas().size() == 2);
        String doomedId = ledger.liveReplicas().stream().filter(r -> r.startsWith("doomed-")).findFirst()
                .orElseThrow();
        String survivorId = ledger.liveReplicas().stream().filter(r -> !r.equals(doomedId)).findFirst()
                .orElseThrow();

        // The doomed replica holds both slots with streams in flight.
        RawClient s1 = endlessStream(doomed.port(), "held 1");
        RawClient s2 = endlessStream(doomed.port(), "held 2");
        await().atMost(LONG_WAIT).until(() -> gpu.counters().activeGenerations() == SLOTS);
        assertThat(s1.readUntil("\"response\"")).startsWith("HTTP/1.1 200");
        assertThat(s2.readUntil("\"response\"")).startsWith("HTTP/1.1 200");
        await().atMost(LONG_WAIT).until(() -> ledger.holdings(BACKEND).equals(Map.of(doomedId, SLOTS)));

        // Work waits on the survivor, and must keep waiting while the doomed replica lives.
        List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
        for (int i = 0; i < SLOTS; i++) {
            waiting.add(generate(survivor.port(), "after " + i, 2 * DECODE_TPS, "normal"));
        }
        await().atMost(LONG_WAIT).until(() -> ledger.mirroredQueues(MODEL).equals(Map.of(survivorId, SLOTS)));
        assertThat(waiting).noneMatch(CompletableFuture::isDone);
        assertThat(gpu.counters().activeGenerations()).isEqualTo(SLOTS);

        long killed = System.nanoTime();
        doomed.kill();
        // The kernel closes the dead process's connections: the simulator drops its two streams at once. Only the
        // ledger still holds the slots for it, until its lease runs out.
        await().atMost(LONG_WAIT).until(() -> gpu.counters().cancelled() == SLOTS);
        await().atMost(LONG_WAIT).pollInterval(Duration.ofMillis(10))
                .until(() -> gpu.counters().activeGenerations() > 0);
        long firstMillis = (System.nanoTime() - killed) / 1_000_000;
        await().atMost(LONG_WAIT).pollInterval(Duration.ofMillis(10))
                .until(() -> gpu.counters().activeGenerations() == SLOTS);
        long allMillis = (System.nanoTime() - killed) / 1_000_000;
        System.out.printf("cluster kill: SIGKILLed replica's slots back on the survivor: first after %d ms, all %d "
                + "after %d ms (lease %d ms)%n", firstMillis, SLOTS, allMillis, LEASE.toMillis());
        // The lease runs from the last renewal before the kill (renewals every lease/3, and every sync); the
        // survivor asks again every refresh (100 ms). A margin of two seconds covers a starved machine, and a
        // lease that never ran out (or a ledger that kept a dead holder) fails it.
        assertThat(allMillis).as("all slots back within the lease (%d ms) plus a margin", LEASE.toMillis())
                .isLessThan(LEASE.plusSeconds(2).toMillis());
        assertThat(ledger.holdings(BACKEND)).as("the dead replica left the ledger")
                .isEqualTo(Map.of(survivorId, SLOTS));
        assertAllOk(waiting);
        assertThat(gpu.counters().peakConcurrentGenerations()).isEqualTo(SLOTS);
    }

    @Test
    void afterRedisRestartsEmptyTheReplicasRejoinAndShareSlotsAgain() throws Exception {
        BalancerServer a = replica();
        BalancerServer b = replica();
        // Idle replicas keep their fair share (one slot each) as headroom, recorded in the ledger.
        await().atMost(LONG_WAIT).until(() -> ledger.liveReplicas().size() == 2
                && List.copyOf(ledger.holdings(BACKEND).values()).equals(List.of(1, 1)));
        List<String> ids = ledger.liveReplicas();
        Map<String, Integer> idle = ledger.holdings(BACKEND);
        assertThat(idle.keySet()).containsExactlyElementsOf(ids);

        assertThat(clusterStatus(a)).containsEntry("state", "joined").containsEntry("liveReplicas", 2);

        redis.stop();
        // The status page says so once the replica noticed (its next Redis call failed).
        await().atMost(LONG_WAIT).until(() -> "alone".equals(clusterStatus(a).get("state")));
        // Alone, each replica keeps to its share: A alone never runs more than one request on the backend, even
        // with the other slot idle. None of its requests fails.
        gpu.counters().reset();
        List<CompletableFuture<HttpResponse<String>>> alone = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            alone.add(generate(a.port(), "alone " + i, SHORT, "normal"));
        }
        assertAllOk(alone);
        assertThat(gpu.counters().peakConcurrentGenerations()).as("A's share while Redis is down").isEqualTo(1);

        redis.start();
        long restarted = System.nanoTime();
        // Convergence: Redis came back empty; both replicas register again under the same ids, the settle window
        // closes, and the ledger lists both again with the same holdings as before the outage.
        await().atMost(LONG_WAIT).until(() -> ledger.liveReplicas().equals(ids) && !ledger.settling()
                && ledger.holdings(BACKEND).equals(idle));
        await().atMost(LONG_WAIT).until(() -> "joined".equals(clusterStatus(a).get("state"))
                && "joined".equals(clusterStatus(b).get("state")));
        System.out.printf("cluster restart: both replicas back in the emptied Redis ledger %d ms after it restarted%n",
                (System.nanoTime() - restarted) / 1_000_000);

        // The slot protocol works again: A alone may now take both slots, which only B giving its share back
        // through Redis allows.
        gpu.counters().reset();
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            burst.add(generate(a.port(), "rejoined " + i, DECODE_TPS, "normal"));
        }
        assertAllOk(burst);
        assertThat(gpu.counters().peakConcurrentGenerations()).as("A took B's idle slot through Redis")
                .isEqualTo(SLOTS);

        // And the limit holds across both under load far above capacity.
        List<CompletableFuture<HttpResponse<String>>> load = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            load.add(generate((i % 2 == 0 ? a : b).port(), "load " + i, SHORT, i % 3 == 0 ? "high" : "normal"));
        }
        assertAllOk(load);
        assertThat(gpu.counters().peakConcurrentGenerations()).as("peak since Redis came back").isEqualTo(SLOTS);
    }

    /** The {@code cluster} object of the replica's {@code GET /balancer/status}. */
    private static Map<String, Object> clusterStatus(BalancerServer replica) throws Exception {
        HttpResponse<String> r = Http.get("http://127.0.0.1:" + replica.port() + "/balancer/status");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode cluster = JSON.readTree(r.body()).get("cluster");
        return JSON.convertValue(cluster, new TypeReference<Map<String, Object>>() { });
    }
}

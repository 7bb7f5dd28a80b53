package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.BalancerProcess;
import io.ollamabalancer.testing.ClusterLedger;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.RawClient;
import io.ollamabalancer.testing.RedisServerProcess;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The graceful stop that SIGTERM and SIGINT start ({@code BalancerServer.shutdown()}, the method the signal handler
 * calls), over real sockets against simulated backends whose slow token rate makes long streams: {@code /ready}
 * turns 503 at once, requests keep coming in during {@code --shutdown-delay}, the listener then closes, streams and
 * queued requests finish within {@code --shutdown-grace}, and when the grace runs out a stream ends with an error
 * line in its own format and a queued request gets 503 with {@code Retry-After}. In cluster mode the replica's slots
 * go back to Redis.
 */
class GracefulShutdownIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "llama3.2:1b";
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
    private static final String STREAM = "{\"model\":\"" + MODEL + "\",\"prompt\":\"tell me a long story\"}";
    private static final String SHORT = "{\"model\":\"" + MODEL + "\",\"prompt\":\"hi\",\"stream\":false,"
            + "\"options\":{\"num_predict\":2}}";
    private static final String ABORTED = "the balancer is shutting down; retry the request";
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    /** One simulator of {@code slots} slots whose every answer has {@code tokens} tokens at 20 tokens a second. */
    private static TestFleet slowFleet(int slots, int tokens) {
        // A mean far above the cap makes every drawn length the cap itself.
        return new TestFleet().sim("slow", b -> b.models(ONE_MODEL).slots(slots).decodeTokensPerSecond(20)
                .meanOutputTokens(100_000).maxOutputTokens(tokens));
    }

    private CompletableFuture<HttpResponse<String>> post(String path, String body) {
        return Http.postAsync(fleet.url() + path, body, "X-Test", "drain", CALL_TIMEOUT);
    }

    private int queued() throws Exception {
        int n = 0;
        for (JsonNode q : JSON.readTree(Http.get(fleet.url() + "/balancer/status").body()).get("queues")) {
            n += q.get("depth").asInt();
        }
        return n;
    }

    private static boolean refused(int port) throws IOException {
        try {
            new Socket("127.0.0.1", port).close();
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }

    /** The last NDJSON line of a finished stream, parsed. */
    private static JsonNode lastLine(String body) throws IOException {
        String[] lines = body.strip().split("\n");
        return JSON.readTree(lines[lines.length - 1]);
    }

    @Test
    void streamsInFlightAndQueuedRequestsAllFinishWhileReadyAnswers503() throws Exception {
        fleet = slowFleet(2, 20).start(c -> c.shutdownDelay(Duration.ofMillis(500)));
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            calls.add(post("/api/generate", STREAM));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> fleet.sim(0).counters().activeGenerations() == 2
                && queued() == 3);

        long t0 = System.nanoTime();
        CompletableFuture<Void> stopped = fleet.balancer().shutdown();
        HttpResponse<String> ready = Http.get(fleet.url() + "/ready");
        assertThat(ready.statusCode()).as("/ready right after the drain began").isEqualTo(503);
        assertThat(ready.body()).contains("shutting down");

        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.get(15, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode last = lastLine(r.body());
            assertThat(last.path("done").asBoolean()).as("stream finished: %s", last).isTrue();
            assertThat(last.path("eval_count").asInt()).isEqualTo(20);
        }
        stopped.get(5, TimeUnit.SECONDS);
        fleet.balancer().awaitClose();
        System.out.printf("drain: 2 streams + 3 queued (20 tokens each, 2 slots) drained in %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
        assertThat(refused(fleet.port())).as("the listener is closed").isTrue();
    }

    @Test
    void requestsDuringTheDelayAreServedThenTheListenerClosesAndIdleConnectionsToo() throws Exception {
        fleet = slowFleet(2, 50).start(c -> c.shutdownDelay(Duration.ofSeconds(1)));
        CompletableFuture<HttpResponse<String>> stream = post("/api/generate", STREAM);
        await().atMost(Duration.ofSeconds(5)).until(() -> fleet.sim(0).counters().activeGenerations() == 1);
        try (RawClient idle = new RawClient(fleet.port())) {
            idle.get("/api/version");
            idle.readUntil("\"version\"");

            fleet.balancer().shutdown();
            try (RawClient late = new RawClient(fleet.port())) {
                String answer = late.post("/api/generate", SHORT).readUntil("\"done\":true");
                assertThat(answer).as("a request during the delay").startsWith("HTTP/1.1 200")
                        .containsIgnoringCase("connection: close");
            }
            await().atMost(Duration.ofSeconds(3)).until(() -> refused(fleet.port()));
            assertThat(stream).as("the stream still runs when the listener closes").isNotDone();
            assertThat(idle.readToEnd()).as("the idle keep-alive connection is closed by the server").isTrue();
        }
        HttpResponse<String> r = stream.get(10, TimeUnit.SECONDS);
        assertThat(lastLine(r.body()).path("done").asBoolean()).isTrue();
        fleet.balancer().shutdown().get(5, TimeUnit.SECONDS);
    }

    @Test
    void whenTheGraceRunsOutStreamsEndWithAnErrorLineAndQueuedRequestsGet503() throws Exception {
        fleet = slowFleet(3, 400).start(c -> c.shutdownGrace(Duration.ofSeconds(1)));
        CompletableFuture<HttpResponse<String>> ndjson = post("/api/generate", STREAM);
        CompletableFuture<HttpResponse<String>> sse = post("/v1/chat/completions", "{\"model\":\"" + MODEL
                + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a long story\"}]}");
        CompletableFuture<HttpResponse<String>> whole = post("/api/generate", "{\"model\":\"" + MODEL
                + "\",\"prompt\":\"a long story, all at once\",\"stream\":false}");
        await().atMost(Duration.ofSeconds(5)).until(() -> fleet.sim(0).counters().activeGenerations() == 3);
        CompletableFuture<HttpResponse<String>> waiting = post("/api/generate", STREAM);
        CompletableFuture<HttpResponse<String>> waitingV1 = post("/v1/completions", "{\"model\":\"" + MODEL
                + "\",\"prompt\":\"hi\"}");
        await().atMost(Duration.ofSeconds(5)).until(() -> queued() == 2);

        long t0 = System.nanoTime();
        fleet.balancer().shutdown().get(6, TimeUnit.SECONDS);
        long tookMs = (System.nanoTime() - t0) / 1_000_000;

        HttpResponse<String> n = ndjson.get(1, TimeUnit.SECONDS);
        assertThat(n.statusCode()).isEqualTo(200);
        assertThat(lastLine(n.body()).path("error").asText()).isEqualTo(ABORTED);
        assertThat(n.body().strip().split("\n").length).as("tokens streamed before the abort").isGreaterThan(5);

        HttpResponse<String> s = sse.get(1, TimeUnit.SECONDS);
        assertThat(s.statusCode()).isEqualTo(200);
        String[] events = s.body().strip().split("\n\n");
        JsonNode error = JSON.readTree(events[events.length - 1].substring("data: ".length()));
        assertThat(error.path("error").path("message").asText()).isEqualTo(ABORTED);

        HttpResponse<String> w = whole.get(1, TimeUnit.SECONDS);
        assertThat(w.statusCode()).as("a non-streamed answer the backend had not sent yet").isEqualTo(503);
        assertThat(w.headers().firstValue("retry-after")).hasValue("1");

        HttpResponse<String> q = waiting.get(1, TimeUnit.SECONDS);
        assertThat(q.statusCode()).isEqualTo(503);
        assertThat(q.headers().firstValue("retry-after")).hasValue("1");
        assertThat(JSON.readTree(q.body()).path("error").asText()).isEqualTo(ABORTED);
        HttpResponse<String> v1 = waitingV1.get(1, TimeUnit.SECONDS);
        assertThat(v1.statusCode()).isEqualTo(503);
        assertThat(v1.headers().firstValue("retry-after")).hasValue("1");
        assertThat(JSON.readTree(v1.body()).path("error").path("message").asText()).as("OpenAI's envelope")
                .isEqualTo(ABORTED);

        await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                assertThat(fleet.sim(0).counters().activeGenerations()).as("the backend stopped generating")
                        .isZero());
        System.out.printf("drain: grace 1 s expired, stop took %d ms%n", tookMs);
        assertThat(tookMs).isBetween(900L, 4_000L);
    }

    @Test
    void inClusterModeTheReplicaGivesItsSlotsBackToRedis() throws Exception {
        RedisServerProcess redis = RedisServerProcess.startOrSkip();
        try (redis) {
            ClusterLedger ledger = new ClusterLedger(redis);
            fleet = slowFleet(4, 20).start(c -> c.redisUrl(redis.url()));
            CompletableFuture<HttpResponse<String>> stream = post("/api/generate", STREAM);
            await().atMost(Duration.ofSeconds(5)).until(() -> fleet.sim(0).counters().activeGenerations() == 1
                    && ledger.liveReplicas().size() == 1
                    && ledger.holdings("slow").values().stream().mapToInt(Integer::intValue).sum() > 0);
            String me = ledger.liveReplicas().get(0);

            fleet.balancer().shutdown().get(10, TimeUnit.SECONDS);

            assertThat(lastLine(stream.get(1, TimeUnit.SECONDS).body()).path("done").asBoolean()).isTrue();
            assertThat(ledger.holdings("slow").getOrDefault(me, 0)).as("slots %s holds after the drain", me)
                    .isZero();
            assertThat(ledger.liveReplicas()).doesNotContain(me);
        }
    }

    @Test
    void sigtermToTheProcessLetsTheStreamFinishAndExitsZero() throws Exception {
        fleet = slowFleet(2, 40);
        String backends = "[{\"name\":\"slow\",\"url\":\"" + fleet.sim(0).baseUrl() + "\",\"maxConcurrency\":2}]";
        try (BalancerProcess balancer = BalancerProcess.launch(backends, "drain")) {
            int port = balancer.awaitListening(Duration.ofSeconds(30));
            CompletableFuture<HttpResponse<String>> stream = Http.postAsync("http://127.0.0.1:" + port
                    + "/api/generate", STREAM, "X-Test", "sigterm", CALL_TIMEOUT);
            await().atMost(Duration.ofSeconds(5)).until(() -> fleet.sim(0).counters().activeGenerations() == 1);

            int exit = balancer.terminate(Duration.ofSeconds(15));

            assertThat(exit).as("exit status after SIGTERM; log:%n%s", balancer.log()).isZero();
            JsonNode last = lastLine(stream.get(1, TimeUnit.SECONDS).body());
            assertThat(last.path("done").asBoolean()).as("the stream finished: %s", last).isTrue();
            assertThat(last.path("eval_count").asInt()).isEqualTo(40);
            assertThat(balancer.log()).contains("SIGTERM received", "shutdown: draining", "shutdown: listener closed",
                    "shutdown: drained", "shutdown: exited");
        }
    }

    @Test
    void closingAfterAGracefulStopIsHarmless() throws Exception {
        fleet = slowFleet(1, 5).start();
        assertThat(Http.post(fleet.url() + "/api/generate", SHORT).statusCode()).isEqualTo(200);
        fleet.balancer().shutdown().get(5, TimeUnit.SECONDS);
        fleet.balancer().close();
        assertThatThrownBy(() -> Http.get(fleet.url() + "/ready")).isInstanceOf(ConnectException.class);
    }
}

package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.backend.HealthTracker;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Deadlines and failure accounting over real sockets. Deadlines: a backend that stops sending mid-stream, one that
 * never sends its status line, and a slow but honest non-streamed answer that must not be cut. Accounting: a
 * backend's answer about the client's request, the balancer's own connection bound and a keep-alive connection the
 * backend closed while it was idle never eject a backend or reach the client as an error.
 */
class FailureHandlingIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
    private static final String STREAMED =
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"tell me a story\",\"options\":{\"num_predict\":20}}";
    private static final String SMALL =
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":2}}";

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private HealthTracker health() {
        return fleet.balancer().fleet().byName("only").healthTracker();
    }

    @Test
    void aStreamThatStallsEndsWithAnErrorLineWithinTheTimeoutAndFreesItsSlot() throws Exception {
        // One slot: the request after the stall is served only if the stalled one gave its slot back.
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(1).meanOutputTokens(20)
                .maxOutputTokens(20)).start(c -> c.streamIdleTimeout(Duration.ofMillis(400)));
        fleet.sim(0).faults().stallAfterTokens(3);
        long start = System.nanoTime();
        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", STREAMED);
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertThat(r.statusCode()).isEqualTo(200);
        String[] lines = r.body().split("\n");
        assertThat(lines).hasSize(4);
        for (int i = 0; i < 3; i++) {
            assertThat(JSON.readTree(lines[i]).get("done").asBoolean()).isFalse();
        }
        assertThat(JSON.readTree(lines[3]).get("error").asText()).contains("only").contains("sent nothing for 400ms");
        assertThat(tookMs).as("ended by the 400 ms idle deadline").isBetween(300L, 3_000L);
        // The upstream connection was closed, which is how Ollama learns to stop (the simulator counts a cancel).
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(fleet.sim(0).counters().cancelled()).isEqualTo(1);
            assertThat(fleet.sim(0).counters().activeGenerations()).isZero();
        });
        assertThat(health().passiveFailures()).as("a stall counts against the backend").isEqualTo(1);

        fleet.sim(0).faults().stallAfterTokens(0);
        HttpResponse<String> next = Http.post(fleet.url() + "/api/generate", SMALL);
        assertThat(next.statusCode()).as("the slot came back").isEqualTo(200);
    }

    @Test
    void anOpenAiStreamThatStallsEndsWithAnErrorEvent() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).meanOutputTokens(20).maxOutputTokens(20))
                .start(c -> c.streamIdleTimeout(Duration.ofMillis(300)));
        fleet.sim(0).faults().stallAfterTokens(2);
        HttpResponse<String> r = Http.post(fleet.url() + "/v1/chat/completions",
                "{\"model\":\"llama3.2:1b\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("data: {\"error\":{\"message\":\"backend 'only' sent nothing for 300ms\"")
                .doesNotContain("[DONE]");
    }

    @Test
    void aBackendThatNeverAnswersGets504AfterTheFirstByteDeadline() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(1))
                .start(c -> c.firstByteTimeout(Duration.ofMillis(600)));
        // Learn the model's speed first, so the request has a (short) estimate: the 600 ms floor then rules.
        assertThat(Http.post(fleet.url() + "/api/generate", SMALL).statusCode()).isEqualTo(200);
        fleet.sim(0).faults().stallBeforeHead(true);
        long start = System.nanoTime();
        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", SMALL);
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(JSON.readTree(r.body()).get("error").asText())
                .isEqualTo("backend 'only' timed out: no response within 600ms");
        assertThat(tookMs).isBetween(500L, 3_000L);
        assertThat(health().passiveFailures()).as("a first-byte timeout counts").isEqualTo(1);
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(fleet.sim(0).counters().cancelled()).isEqualTo(1));

        // On /v1 the 504 comes in OpenAI's envelope (a short answer is asked for, so the 600 ms floor rules).
        HttpResponse<String> openAi = Http.post(fleet.url() + "/v1/chat/completions",
                "{\"model\":\"llama3.2:1b\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(openAi.statusCode()).isEqualTo(504);
        assertThat(JSON.readTree(openAi.body()).path("error").path("message").asText()).contains("timed out");

        fleet.sim(0).faults().stallBeforeHead(false);
        assertThat(Http.post(fleet.url() + "/api/generate", SMALL).statusCode()).as("the slot came back")
                .isEqualTo(200);
    }

    @Test
    void aSlowNonStreamedAnswerWithinItsEstimateIsNotCut() throws Exception {
        // 20 tokens per second: a 40-token answer takes 2 s, more than three times the 600 ms floor. Only the
        // request's own estimate (4x the expected generation) lets it through.
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(1).decodeTokensPerSecond(20)
                .meanOutputTokens(4000).maxOutputTokens(4000)).start(c -> c.firstByteTimeout(Duration.ofMillis(600)));
        // The balancer learns this backend's decode speed from Ollama's final chunks.
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> warm = Http.post(fleet.url() + "/api/generate",
                    "{\"model\":\"llama3.2:1b\",\"prompt\":\"warm " + i + "\",\"options\":{\"num_predict\":8}}");
            assertThat(warm.statusCode()).isEqualTo(200);
        }
        long start = System.nanoTime();
        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"a long answer\",\"stream\":false,"
                        + "\"options\":{\"num_predict\":40}}");
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("eval_count").asInt()).isEqualTo(40);
        assertThat(tookMs).as("slower than the floor").isGreaterThan(1_500L);
        assertThat(health().passiveFailures()).isZero();
    }

    @Test
    void passThroughRequestsTheBackendAnswersWithAnErrorEjectNothing() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL)).start();
        for (int i = 0; i < 10; i++) {
            // Ollama answers a pull of a model that does not exist with a 500 (without streaming) ...
            HttpResponse<String> r = Http.post(fleet.url() + "/api/pull",
                    "{\"model\":\"doesnotexist\",\"stream\":false}");
            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(r.body()).contains("file does not exist");
        }
        for (int i = 0; i < 5; i++) {
            // ... or an error line inside a 200 stream.
            HttpResponse<String> r = Http.post(fleet.url() + "/api/pull", "{\"model\":\"doesnotexist\"}");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"error\"");
        }
        assertThat(health().ejections()).as("a backend's answer about a request is not a health failure").isZero();
        assertThat(health().passiveFailures()).isZero();
        assertThat(fleet.balancer().fleet().byName("only").isAvailable()).isTrue();
        for (int i = 0; i < 5; i++) {
            assertThat(Http.post(fleet.url() + "/api/generate", SMALL).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aBurstBeyondTheConnectionBoundWaitsForAConnectionAndEjectsNothing() throws Exception {
        // Eight slots but only two connections: of a burst of twenty, the scheduler dispatches eight at a time, and
        // six of those wait at the balancer's own bound for a connection to come free (each generation is ~200 ms,
        // so each waits well under a second, inside the connect timeout that bounds the wait).
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(8).decodeTokensPerSecond(100)
                .meanOutputTokens(400).maxOutputTokens(400))
                .start(c -> c.maxConnectionsPerBackend(2).connectTimeout(Duration.ofSeconds(10)));
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            burst.add(Http.postAsync(fleet.url() + "/api/generate", "{\"model\":\"llama3.2:1b\",\"prompt\":\"b" + i
                    + "\",\"options\":{\"num_predict\":20}}", "X-Test", "burst", Duration.ofSeconds(30)));
        }
        for (CompletableFuture<HttpResponse<String>> f : burst) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).contains("\"done\":true").doesNotContain("\"error\"");
        }
        assertThat(fleet.sim(0).counters().peakConcurrentGenerations()).as("the bound held").isLessThanOrEqualTo(2);
        assertThat(health().ejections()).as("the balancer's own bound is not the backend's failure").isZero();
        assertThat(health().passiveFailures()).isZero();
        assertThat(Http.post(fleet.url() + "/api/generate", SMALL).statusCode()).isEqualTo(200);
    }

    @Test
    void aConnectionBoundThatStaysReachedEndsIn503WithoutEjecting() throws Exception {
        // One connection, held by a slow stream; a generate waits the whole (short) connect timeout for it, meets the
        // bound again on each of its bounded retries, and gets the balancer's own 503, not a 502 or "no backend".
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(4).decodeTokensPerSecond(5)
                .meanOutputTokens(400).maxOutputTokens(400))
                .start(c -> c.maxConnectionsPerBackend(1).connectTimeout(Duration.ofMillis(300)));
        CompletableFuture<HttpResponse<String>> slow = Http.postAsync(fleet.url() + "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"slow\",\"options\":{\"num_predict\":40}}", "X-Test",
                "slow", Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(5)).until(() -> fleet.sim(0).counters().activeGenerations() == 1);
        long start = System.nanoTime();
        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", SMALL);
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(JSON.readTree(r.body()).get("error").asText())
                .contains("too many open connections to backend only (limit 1");
        assertThat(tookMs).as("waited, then retried a bounded number of times").isGreaterThanOrEqualTo(300L);
        assertThat(health().ejections()).isZero();
        assertThat(health().passiveFailures()).isZero();
        assertThat(slow.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void aReusedConnectionClosedByTheBackendIsRetriedOnAFreshOneWhateverTheMethod() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL)).start();
        assertThat(Http.post(fleet.url() + "/api/generate", SMALL).statusCode()).isEqualTo(200);
        // The pooled connection is now met with a close when the next request arrives on it: a pass-through POST
        // (never retried elsewhere once sent) and a generate both go out again on a fresh connection.
        fleet.sim(0).faults().dropOnReusedConnection(1);
        HttpResponse<String> pull = Http.post(fleet.url() + "/api/pull",
                "{\"model\":\"llama3.2:1b\",\"stream\":false}");
        assertThat(pull.statusCode()).as(pull.body()).isEqualTo(200);
        assertThat(fleet.sim(0).faults().toJson()).contains("\"dropOnReusedConnection\":0");
        fleet.sim(0).faults().dropOnReusedConnection(1);
        assertThat(Http.post(fleet.url() + "/api/generate", SMALL).statusCode()).isEqualTo(200);
        assertThat(fleet.sim(0).faults().toJson()).contains("\"dropOnReusedConnection\":0");
        assertThat(health().passiveFailures()).as("a stale keep-alive connection is not the backend's fault")
                .isZero();
        assertThat(health().ejections()).isZero();
    }

    @Test
    void modelListsAndProbesSurviveReusedConnectionsTheBackendClosed() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL)).start();
        assertThat(Http.get(fleet.url() + "/api/tags").statusCode()).isEqualTo(200);
        // The balancer's own small requests (the merged /api/tags here, its polls and probes meanwhile) meet closed
        // keep-alive connections too; each is sent again on a fresh one.
        fleet.sim(0).faults().dropOnReusedConnection(5);
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> tags = Http.get(fleet.url() + "/api/tags");
            assertThat(tags.statusCode()).isEqualTo(200);
            assertThat(tags.body()).contains("llama3.2:1b");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> fleet.sim(0).faults().toJson()
                .contains("\"dropOnReusedConnection\":0"));
        assertThat(health().lastError()).isNull();
        assertThat(health().ejections()).isZero();
    }

    @Test
    void aBackendClosingIdleKeepAliveConnectionsCausesNoClientErrorAndNoEjection() throws Exception {
        // The simulator closes a connection idle for 150 ms (Ollama's Go server does the same after its idle
        // timeout). Five clients each send 200 requests spaced 100-200 ms apart, so the pooled connections they share
        // sit idle for times spread around the backend's timeout: many are reused just after it closed them, some
        // as it closes them, each a reset on a reused connection that must be retried, never charged.
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(4).idleTimeoutMillis(150)).start();
        int clients = 5;
        int perClient = 200;
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        List<String> errors = new ArrayList<>();
        try {
            List<Future<List<String>>> runs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                Random spacing = new Random(7 + c);
                runs.add(threads.submit(() -> spacedRequests(perClient, spacing)));
            }
            for (Future<List<String>> run : runs) {
                errors.addAll(run.get(120, TimeUnit.SECONDS));
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(errors).as("client errors").isEmpty();
        assertThat(fleet.sim(0).counters().served()).isGreaterThanOrEqualTo((long) clients * perClient);
        assertThat(fleet.sim(0).counters().idleCloses()).as("the backend did close idle connections")
                .isGreaterThan(50);
        assertThat(health().ejections()).isZero();
        assertThat(health().passiveFailures()).isZero();
        assertThat(health().lastError()).isNull();
    }

    /** {@code n} small generates one after another, 100-200 ms apart; what did not come back 200. */
    private List<String> spacedRequests(int n, Random spacing) throws InterruptedException {
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            try {
                HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", SMALL);
                if (r.statusCode() != 200) {
                    errors.add(r.statusCode() + " " + r.body());
                }
            } catch (IOException e) {
                errors.add(e.toString());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100 + spacing.nextInt(101)));
        }
        return errors;
    }
}

package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.RawClient;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What happens when clients vanish and backends die, over real sockets. */
class FaultsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
    private static final String LONG_GENERATE =
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"tell me a long story\",\"options\":{\"num_predict\":400}}";

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void clientThatLeavesMidStreamStopsTheGenerationAndFreesTheSlot() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(1).decodeTokensPerSecond(50)
                .meanOutputTokens(400).maxOutputTokens(400)).start();
        try (RawClient c = new RawClient(fleet.port())) {
            c.post("/api/generate", LONG_GENERATE).readUntil("\"done\":false");
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(fleet.sim(0).counters().cancelled()).isEqualTo(1);
            assertThat(fleet.sim(0).counters().activeGenerations()).isZero();
        });
        HttpResponse<String> next = Http.post(fleet.url() + "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":2}}");
        assertThat(next.statusCode()).as("the slot came back").isEqualTo(200);
    }

    @Test
    void queuedRequestWhoseClientLeavesNeverReachesABackend() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(1).decodeTokensPerSecond(50)
                .meanOutputTokens(400).maxOutputTokens(400)).start();
        try (RawClient running = new RawClient(fleet.port())) {
            running.post("/api/generate", LONG_GENERATE).readUntil("\"done\":false");
            try (RawClient queued = new RawClient(fleet.port())) {
                queued.post("/api/generate", LONG_GENERATE);
                await().atMost(Duration.ofSeconds(5)).until(() -> queueDepth() == 1);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> queueDepth() == 0);
        }
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(fleet.sim(0).counters().activeGenerations()).isZero());
        // The simulator counts a request that waited for its slot and was abandoned as cancelled too.
        assertThat(fleet.sim(0).counters().cancelled()).as("only the first request reached Ollama").isEqualTo(1);
    }

    private int queueDepth() throws Exception {
        String status = Http.get(fleet.url() + "/balancer/status").body();
        int depth = 0;
        for (var q : JSON.readTree(status).path("queues")) {
            depth += q.path("depth").asInt();
        }
        return depth;
    }

    @Test
    void backendDeadBeforeTheFirstByteIsRetriedElsewhere() throws Exception {
        fleet = new TestFleet()
                .sim("dying", b -> b.models(ONE_MODEL))
                .sim("healthy", b -> b.models(ONE_MODEL))
                .start();
        fleet.sim(0).faults().refuseConnections(true);
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = Http.post(fleet.url() + "/api/generate",
                    "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi " + i + "\",\"stream\":false}");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("x-balancer-backend")).hasValue("healthy");
        }
    }

    @Test
    void busyBackendAnswering503IsRetriedOnAnother() throws Exception {
        fleet = new TestFleet()
                .sim("busy", b -> b.models(ONE_MODEL))
                .sim("free", b -> b.models(ONE_MODEL))
                .start();
        for (int i = 0; i < 4; i++) {
            fleet.sim(0).faults().failNextWith(503);
            HttpResponse<String> r = Http.post(fleet.url() + "/api/generate",
                    "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false}");
            assertThat(r.statusCode()).isEqualTo(200);
        }
        assertThat(fleet.sim(0).counters().rejected503()).as("the busy backend was tried").isPositive();
    }

    @Test
    void backendThatDiesMidStreamEndsTheStreamWithOneErrorLine() throws Exception {
        fleet = new TestFleet().sim("crashy", b -> b.models(ONE_MODEL).meanOutputTokens(50).maxOutputTokens(50))
                .start();
        fleet.sim(0).faults().crashAfterTokens(3);
        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", LONG_GENERATE);
        assertThat(r.statusCode()).isEqualTo(200);
        String[] lines = r.body().split("\n");
        assertThat(lines).hasSize(4);
        assertThat(JSON.readTree(lines[3]).get("error").asText()).contains("crashy");
        for (int i = 0; i < 3; i++) {
            assertThat(JSON.readTree(lines[i]).get("done").asBoolean()).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"connection drops", "error line"})
    void aBackendWhoseStreamsKeepDyingIsEjectedAndTheRestGoElsewhere(String how) throws Exception {
        fleet = new TestFleet()
                .sim("crashy", b -> b.models(ONE_MODEL).meanOutputTokens(50).maxOutputTokens(50))
                .sim("sound", b -> b.models(ONE_MODEL).meanOutputTokens(50).maxOutputTokens(50))
                .start();
        // Every stream on "crashy" answers 200 and dies after a token, its connection cut or with an error line
        // (how Ollama reports a runner that failed mid-generation); its health probe still answers.
        if (how.equals("error line")) {
            fleet.sim(0).faults().errorAfterTokens(1);
        } else {
            fleet.sim(0).faults().crashAfterTokens(1);
        }
        String body = "{\"model\":\"llama3.2:1b\",\"prompt\":\"x\",\"options\":{\"num_predict\":5}}";
        int died = 0;
        for (int i = 0; i < 40 && died < 3; i++) {
            HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", body);
            if (r.body().contains("\"error\"")) {
                died++;
            }
        }
        assertThat(died).as("consecutive mid-stream deaths on crashy").isEqualTo(3);
        // Three in a row (the passive threshold) eject it, although each began with a 200 head.
        assertThat(fleet.balancer().fleet().byName("crashy").isAvailable()).isFalse();
        // The next request (within the first ejection's second) goes to the sound one.
        HttpResponse<String> next = Http.post(fleet.url() + "/api/generate", body);
        assertThat(next.headers().firstValue("X-Balancer-Backend")).hasValue("sound");
        assertThat(next.body()).doesNotContain("\"error\"");
    }

    @Test
    void openAiStreamThatDiesEndsWithAnErrorEvent() throws Exception {
        fleet = new TestFleet().sim("crashy", b -> b.models(ONE_MODEL).meanOutputTokens(50).maxOutputTokens(50))
                .start();
        fleet.sim(0).faults().crashAfterTokens(2);
        HttpResponse<String> r = Http.post(fleet.url() + "/v1/chat/completions",
                "{\"model\":\"llama3.2:1b\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("data: {\"error\":{\"message\":").doesNotContain("[DONE]");
    }

    @Test
    void noHealthyBackendIs503AndUnknownModelIs404() throws Exception {
        fleet = new TestFleet().sim("gone", b -> b.models(ONE_MODEL)).start();
        fleet.sim(0).close();
        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(JSON.readTree(r.body()).get("error").asText()).isNotBlank();
        assertThat(Http.get(fleet.url() + "/api/tags").statusCode()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> Http.get(fleet.url() + "/ready").statusCode() == 503);
        assertThat(Http.get(fleet.url() + "/health").statusCode()).isEqualTo(200);
    }

    @Test
    void oversizedBodyIs413WithAnErrorBody() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL)).start(c -> c.maxBodyBytes(1024));
        String big = "{\"model\":\"llama3.2:1b\",\"prompt\":\"" + "x".repeat(4096) + "\"}";
        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", big);
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(JSON.readTree(r.body()).get("error").asText()).contains("too large");
    }

    @Test
    void upstreamConnectionsAreKeptAliveAndTheBackendsHostHeaderIsSent() throws Exception {
        fleet = new TestFleet().sim("strict", b -> b.models(ONE_MODEL).checkHost(true)).start();
        long before = fleet.sim(0).counters().connectionsAccepted();
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = Http.post(fleet.url() + "/api/generate",
                    "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":2}}");
            assertThat(r.statusCode()).isEqualTo(200);
        }
        assertThat(fleet.sim(0).counters().connectionsAccepted() - before).as("pooled, not one per request")
                .isLessThanOrEqualTo(3);
    }
}

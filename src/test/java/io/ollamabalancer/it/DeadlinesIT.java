package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.backend.HealthTracker;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The response deadlines over real sockets: a backend that stops sending mid-stream, one that never sends its
 * status line, and a slow but honest non-streamed answer that must not be cut.
 */
class DeadlinesIT {
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
        assertThat(JSON.readTree(r.body()).get("error").asText()).contains("only").contains("timed out");
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
}

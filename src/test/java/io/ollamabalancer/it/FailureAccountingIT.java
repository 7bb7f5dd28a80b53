package io.ollamabalancer.it;

import io.ollamabalancer.backend.HealthTracker;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which failures count against a backend's health and which are retried, over real sockets: a backend's answer
 * about the client's request, the balancer's own connection bound and a keep-alive connection the backend closed
 * while it was idle never eject a backend or reach the client as an error.
 */
class FailureAccountingIT {
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
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
    void aBurstBeyondTheConnectionBoundEjectsNothing() throws Exception {
        // Eight slots but only two connections: six requests of the burst meet the balancer's own bound.
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(8).decodeTokensPerSecond(100)
                .meanOutputTokens(400).maxOutputTokens(400)).start(c -> c.maxConnectionsPerBackend(2));
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            burst.add(Http.postAsync(fleet.url() + "/api/generate", "{\"model\":\"llama3.2:1b\",\"prompt\":\"b" + i
                    + "\",\"options\":{\"num_predict\":20}}", "X-Test", "burst", java.time.Duration.ofSeconds(20)));
        }
        int ok = 0;
        for (CompletableFuture<HttpResponse<String>> f : burst) {
            HttpResponse<String> r = f.get(20, TimeUnit.SECONDS);
            assertThat(r.statusCode()).as(r.body()).isIn(200, 503);
            ok += r.statusCode() == 200 ? 1 : 0;
        }
        assertThat(ok).isGreaterThanOrEqualTo(2);
        assertThat(health().ejections()).as("the balancer's own bound is not the backend's failure").isZero();
        assertThat(health().passiveFailures()).isZero();
        assertThat(Http.post(fleet.url() + "/api/generate", SMALL).statusCode()).isEqualTo(200);
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
    void aBackendClosingIdleKeepAliveConnectionsCausesNoClientErrorAndNoEjection() throws Exception {
        // The simulator closes a connection idle for 40 ms; requests come every 30-50 ms, so many meet a connection
        // the backend is closing (or has just closed) as they are sent.
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).idleTimeoutMillis(40)).start();
        Random spacing = new Random(7);
        int errors = 0;
        for (int i = 0; i < 200; i++) {
            HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", SMALL);
            if (r.statusCode() != 200) {
                errors++;
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(30_000 + spacing.nextInt(20_000)));
        }
        assertThat(errors).as("client errors").isZero();
        assertThat(fleet.sim(0).counters().idleCloses()).as("the backend did close idle connections").isPositive();
        assertThat(health().ejections()).isZero();
        assertThat(health().passiveFailures()).isZero();
    }
}

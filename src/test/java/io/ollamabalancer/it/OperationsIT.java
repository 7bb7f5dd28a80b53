package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BackendsFile;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Health ejection and recovery, draining, and config reload, with traffic flowing. */
class OperationsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
    private static final String SHORT =
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":3}}";

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private JsonNode backend(String name) throws Exception {
        for (JsonNode b : JSON.readTree(Http.get(fleet.url() + "/balancer/status").body()).get("backends")) {
            if (b.get("name").asText().equals(name)) {
                return b;
            }
        }
        return null;
    }

    @Test
    void refusedBackendIsEjectedWithoutClientErrorsAndComesBackThroughHalfOpenProbing() throws Exception {
        fleet = new TestFleet().sim("flaky", b -> b.models(ONE_MODEL)).sim("steady", b -> b.models(ONE_MODEL))
                .start();
        fleet.sim(0).faults().refuseConnections(true);
        for (int i = 0; i < 10; i++) {
            assertThat(Http.post(fleet.url() + "/api/generate", SHORT).statusCode()).isEqualTo(200);
        }
        assertThat(backend("flaky").get("health").asText()).isEqualTo("down");

        fleet.sim(0).faults().refuseConnections(false);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> backend("flaky").get("health").asText().equals("up"));
        long before = fleet.sim(0).counters().served();
        for (int i = 0; i < 10; i++) {
            assertThat(Http.post(fleet.url() + "/api/generate", SHORT).statusCode()).isEqualTo(200);
        }
        assertThat(fleet.sim(0).counters().served()).as("traffic returns to the recovered backend")
                .isGreaterThan(before);
    }

    @Test
    void drainedBackendFinishesItsStreamAndGetsNoNewWork() throws Exception {
        fleet = new TestFleet()
                .sim("old", b -> b.models(ONE_MODEL).decodeTokensPerSecond(100).meanOutputTokens(60)
                        .maxOutputTokens(60))
                .sim("new", b -> b.models(ONE_MODEL))
                .start();
        CompletableFuture<HttpResponse<String>> stream = CompletableFuture.supplyAsync(() -> {
            try {
                return Http.post(fleet.url() + "/api/generate",
                        "{\"model\":\"llama3.2:1b\",\"prompt\":\"long\",\"options\":{\"num_predict\":60}}",
                        "X-Ollama-Backend", "old");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> fleet.sim(0).counters().activeGenerations()
                + fleet.sim(1).counters().activeGenerations() == 1);
        int onOld = fleet.sim(0).counters().activeGenerations();
        String drained = onOld == 1 ? "old" : "new";
        HttpResponse<String> ack = Http.post(fleet.url() + "/balancer/backends/" + drained + "/drain", "");
        assertThat(ack.statusCode()).isEqualTo(200);
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", SHORT);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("x-balancer-backend")).get().isNotEqualTo(drained);
        }
        HttpResponse<String> finished = stream.get();
        String[] lines = finished.body().split("\n");
        assertThat(JSON.readTree(lines[lines.length - 1]).get("done").asBoolean()).as("the stream finished")
                .isTrue();
    }

    @Test
    void separateAdminPortServesTheAdminRoutesAndTheMainPortDoesNot() throws Exception {
        int adminPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            adminPort = probe.getLocalPort();
        }
        int port = adminPort;
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL))
                .start(c -> c.adminPort(port).adminToken("s3cret"));
        String admin = "http://127.0.0.1:" + adminPort;
        assertThat(Http.get(fleet.url() + "/metrics").statusCode()).isEqualTo(404);
        assertThat(Http.get(admin + "/metrics").body()).contains("ollama_balancer_requests_total");
        assertThat(Http.get(admin + "/api/tags").statusCode()).isEqualTo(404);
        assertThat(Http.post(admin + "/balancer/backends/only/drain", "").statusCode()).isEqualTo(401);
        assertThat(Http.post(admin + "/balancer/backends/only/drain", "", "Authorization", "Bearer s3cret")
                .statusCode()).isEqualTo(200);
        assertThat(Http.get(fleet.url() + "/health").statusCode()).isEqualTo(200);
    }

    @Test
    void editingTheBackendsFileAddsAndRemovesBackendsWithoutClientErrors(@TempDir Path dir) throws Exception {
        fleet = new TestFleet().sim("first", b -> b.models(ONE_MODEL)).sim("second", b -> b.models(ONE_MODEL));
        List<BackendConfig> both = fleet.backends();
        Path file = dir.resolve("containers.config.json");
        BackendsFile.write(List.of(both.get(0)), file);
        fleet.startWith(1, c -> c.backendsFile(file));

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicBoolean firstRemoved = new AtomicBoolean();
        AtomicInteger sentToRemoved = new AtomicInteger();
        CompletableFuture<Void> traffic = CompletableFuture.runAsync(() -> {
            while (running.get()) {
                try {
                    boolean afterRemoval = firstRemoved.get();
                    HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", SHORT);
                    if (r.statusCode() != 200) {
                        failures.incrementAndGet();
                    }
                    if (afterRemoval && r.headers().firstValue("x-balancer-backend").orElse("").equals("first")) {
                        sentToRemoved.incrementAndGet();
                    }
                    done.incrementAndGet();
                } catch (Exception e) {
                    failures.incrementAndGet();
                }
            }
        });

        BackendsFile.write(both, file);
        await().atMost(Duration.ofSeconds(15)).until(() -> backend("second") != null);
        await().atMost(Duration.ofSeconds(10)).until(() -> fleet.sim(1).counters().served() > 0);

        BackendsFile.write(List.of(both.get(1)), file);
        await().atMost(Duration.ofSeconds(15)).until(() -> backend("first") == null);
        firstRemoved.set(true);
        int doneBefore = done.get();
        await().atMost(Duration.ofSeconds(10)).until(() -> done.get() > doneBefore + 5);
        running.set(false);
        traffic.get();
        assertThat(failures.get()).as("no client error during reloads").isZero();
        assertThat(sentToRemoved.get()).as("the removed backend gets no new work").isZero();
    }
}

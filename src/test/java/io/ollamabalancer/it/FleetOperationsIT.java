package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.RawClient;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Model management across the fleet over real sockets: pull, delete, copy and create reach several simulators and
 * answer as one Ollama. Three simulators, each with {@value #INSTALLED}; {@value #PULLED} is in their registry only.
 */
class FleetOperationsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INSTALLED = "llama3.2:1b";
    private static final String PULLED = "qwen2.5:0.5b";
    private static final String BROKEN = "max retries exceeded: unexpected EOF";

    private TestFleet fleet;

    @BeforeEach
    void start() throws Exception {
        fleet = new TestFleet();
        for (String name : List.of("a", "b", "c")) {
            fleet.sim(name, b -> b.models(List.of(
                    SimModel.completion(INSTALLED, 1_300_000_000L, "llama", "1.2B", "Q8_0", false))));
        }
        fleet.start();
    }

    @AfterEach
    void stop() {
        fleet.close();
    }

    private String url(String path) {
        return fleet.url() + path;
    }

    /**
     * Reads a progress stream as ollama-js does: split on newlines, parse each line, throw on an {@code error} line,
     * and require the last line to be {@code success}. Returns the parsed lines.
     */
    private static List<JsonNode> parseLikeOllamaJs(String body) throws Exception {
        List<JsonNode> parts = new ArrayList<>();
        for (String line : body.split("\n")) {
            JsonNode part = JSON.readTree(line);
            if (part.has("error")) {
                throw new IllegalStateException(part.get("error").asText());
            }
            parts.add(part);
        }
        assertThat(parts.get(parts.size() - 1).path("status").asText()).isEqualTo("success");
        return parts;
    }

    /** Per digest: total never shrinks, completed never goes back nor past total; returns each digest's last line. */
    private static Map<String, JsonNode> assertMonotonicPerDigest(List<JsonNode> parts) {
        Map<String, JsonNode> last = new HashMap<>();
        for (JsonNode p : parts) {
            if (!p.hasNonNull("digest")) {
                continue;
            }
            JsonNode prev = last.get(p.get("digest").asText());
            long total = p.path("total").asLong();
            long completed = p.path("completed").asLong();
            assertThat(completed).as("completed within total: %s", p).isLessThanOrEqualTo(total);
            if (prev != null) {
                assertThat(total).as("total of %s", p).isGreaterThanOrEqualTo(prev.path("total").asLong());
                assertThat(completed).as("completed of %s", p).isGreaterThanOrEqualTo(prev.path("completed").asLong());
            }
            last.put(p.get("digest").asText(), p);
        }
        return last;
    }

    private List<String> statusModels(String backend) throws Exception {
        JsonNode status = JSON.readTree(Http.get(url("/balancer/status")).body());
        for (JsonNode b : status.get("backends")) {
            if (b.get("name").asText().equals(backend)) {
                List<String> names = new ArrayList<>();
                b.get("models").get("installed").forEach(n -> names.add(n.asText()));
                return names;
            }
        }
        throw new AssertionError("no backend " + backend);
    }

    private static HttpResponse<String> delete(String url, String json) throws Exception {
        return Http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .method("DELETE", HttpRequest.BodyPublishers.ofString(json)).build());
    }

    @Test
    void aPullReachesEveryBackendAsOneMergedStreamWithTheFleetsProgress() throws Exception {
        HttpResponse<String> r = Http.post(url("/api/pull"), "{\"model\":\"" + PULLED + "\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/x-ndjson");
        assertThat(r.headers().firstValue("x-balancer-backend")).hasValue("a,b,c");
        List<JsonNode> parts = parseLikeOllamaJs(r.body());
        assertThat(parts.get(0).get("status").asText()).isEqualTo("pulling manifest");
        assertThat(parts.stream().filter(p -> p.path("status").asText().equals("pulling manifest")).count())
                .as("once, not once per backend").isEqualTo(1);
        Map<String, JsonNode> last = assertMonotonicPerDigest(parts);
        assertThat(last).hasSize(4);
        long fleetBytes = 0;
        for (JsonNode l : last.values()) {
            assertThat(l.get("completed").asLong()).isEqualTo(l.get("total").asLong());
            fleetBytes += l.get("total").asLong();
        }
        assertThat(fleetBytes).as("three backends' worth of the model").isEqualTo(3 * 397_821_319L);
        for (int i = 0; i < 3; i++) {
            assertThat(fleet.sim(i).hasModel(PULLED)).as("sim %d", i).isTrue();
            assertThat(statusModels(fleet.sim(i).config().name())).as("the balancer's list, refreshed")
                    .contains(PULLED);
        }
    }

    @Test
    void aBackendFailingMidWayEndsTheStreamWithAnErrorNamingItWhileTheOthersFinish() throws Exception {
        fleet.sim(1).faults().failPullAfterSteps(4);
        HttpResponse<String> r = Http.post(url("/api/pull"), "{\"name\":\"" + PULLED + "\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        String[] lines = r.body().split("\n");
        assertThat(JSON.readTree(lines[lines.length - 1]).get("error").asText())
                .isEqualTo("backend 'b': " + BROKEN);
        List<JsonNode> parts = new ArrayList<>();
        for (int i = 0; i < lines.length - 1; i++) {
            parts.add(JSON.readTree(lines[i]));
        }
        assertMonotonicPerDigest(parts);
        assertThat(fleet.sim(0).hasModel(PULLED)).isTrue();
        assertThat(fleet.sim(1).hasModel(PULLED)).isFalse();
        assertThat(fleet.sim(2).hasModel(PULLED)).isTrue();

        HttpResponse<String> quiet = Http.post(url("/api/pull"), "{\"model\":\"all-minilm\",\"stream\":false}");
        assertThat(quiet.statusCode()).as("Ollama's status for a failed pull without streaming").isEqualTo(500);
        assertThat(JSON.readTree(quiet.body()).get("error").asText()).isEqualTo("backend 'b': " + BROKEN);
        assertThat(fleet.sim(0).hasModel("all-minilm")).isTrue();
    }

    @Test
    void xOllamaBackendNarrowsThePullToTheNamedBackends() throws Exception {
        HttpResponse<String> r = Http.post(url("/api/pull"), "{\"model\":\"" + PULLED + "\"}",
                "X-Ollama-Backend", "c, a");
        assertThat(r.headers().firstValue("x-balancer-backend")).hasValue("c,a");
        parseLikeOllamaJs(r.body());
        assertThat(fleet.sim(0).hasModel(PULLED)).isTrue();
        assertThat(fleet.sim(1).hasModel(PULLED)).isFalse();
        assertThat(fleet.sim(2).hasModel(PULLED)).isTrue();
        HttpResponse<String> unknown = Http.post(url("/api/pull"), "{\"model\":\"x\"}", "X-Ollama-Backend", "a,zeta");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).isEqualTo("{\"error\":\"unknown backend 'zeta'\"}");
    }

    @Test
    void whenEveryTargetFailsBeforeAnyProgressTheClientGetsTheFailuresStatus() throws Exception {
        fleet.sim(1).faults().refuseConnections(true);
        HttpResponse<String> r = Http.post(url("/api/pull"), "{\"model\":\"" + PULLED + "\"}",
                "X-Ollama-Backend", "b");
        assertThat(r.statusCode()).as("no line went out: the status can still say it").isEqualTo(502);
        assertThat(JSON.readTree(r.body()).get("error").asText()).startsWith("backend 'b': ");
        assertThat(fleet.sim(0).hasModel(PULLED)).isFalse();
    }

    @Test
    void withoutStreamingThePullAnswersOneObjectWhenEveryBackendIsDone() throws Exception {
        HttpResponse<String> r = Http.post(url("/api/pull"), "{\"model\":\"" + PULLED + "\",\"stream\":false}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"status\":\"success\"}");
        for (int i = 0; i < 3; i++) {
            assertThat(fleet.sim(i).hasModel(PULLED)).isTrue();
        }
        HttpResponse<String> missing = Http.post(url("/api/pull"), "{\"model\":\"nope\",\"stream\":false}");
        assertThat(missing.statusCode()).isEqualTo(500);
        assertThat(JSON.readTree(missing.body()).get("error").asText()).isEqualTo(
                "backend 'a': pull model manifest: file does not exist; backend 'b': pull model manifest: file does "
                        + "not exist; backend 'c': pull model manifest: file does not exist");
    }

    @Test
    void aClientThatLeavesMidPullDoesNotStopTheBackendsPulls() throws Exception {
        for (int i = 0; i < 3; i++) {
            fleet.sim(i).faults().pullStepMillis(40); // 15 steps: 600 ms per pull
        }
        try (RawClient client = new RawClient(fleet.port())) {
            client.post("/api/pull", "{\"model\":\"" + PULLED + "\"}").readUntil("\"completed\"");
        }
        for (int i = 0; i < 3; i++) {
            assertThat(fleet.sim(i).hasModel(PULLED)).as("still pulling when the client left").isFalse();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (int i = 0; i < 3; i++) {
                OllamaSimulator sim = fleet.sim(i);
                assertThat(sim.hasModel(PULLED)).as("%s finished its pull", sim).isTrue();
                assertThat(statusModels(sim.config().name())).contains(PULLED);
            }
        });
        for (int i = 0; i < 3; i++) {
            assertThat(fleet.sim(i).counters().cancelled()).as("no pull was cancelled").isZero();
        }
    }

    /** Waits until the balancer shows {@code backend}'s health as {@code state} ("up", "down"). */
    private void awaitHealth(String backend, String state) {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (JsonNode b : JSON.readTree(Http.get(url("/balancer/status")).body()).get("backends")) {
                if (b.get("name").asText().equals(backend)) {
                    return b.get("health").asText().equals(state);
                }
            }
            return false;
        });
    }

    /** Sends generates until the balancer has ejected sim 1 ("b"), whose connections are refused. */
    private void ejectB() throws Exception {
        fleet.sim(1).faults().refuseConnections(true);
        for (int i = 0; i < 10; i++) {
            assertThat(Http.post(url("/api/generate"), "{\"model\":\"" + INSTALLED
                    + "\",\"prompt\":\"hi\",\"stream\":false}")
                    .statusCode()).isEqualTo(200);
        }
        awaitHealth("b", "down");
    }

    @Test
    void aBackendThatWasDownDuringAPullIsCaughtUpWhenItReturns() throws Exception {
        ejectB();
        HttpResponse<String> r = Http.post(url("/api/pull"), "{\"model\":\"" + PULLED + "\"}");
        assertThat(r.headers().firstValue("x-balancer-backend")).hasValue("a,c");
        parseLikeOllamaJs(r.body());
        assertThat(fleet.sim(1).hasModel(PULLED)).isFalse();

        fleet.sim(1).faults().refuseConnections(false);
        awaitHealth("b", "up");
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(fleet.sim(1).hasModel(PULLED)).as("caught up on its return").isTrue();
            assertThat(statusModels("b")).contains(PULLED);
        });
        assertThat(fleet.sim(1).counters().pulls()).as("one catch-up pull").isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                JSON.readTree(Http.get(url("/balancer/status")).body()).findValues("catchUp")).as(
                "a caught-up model is not kept as if declared").isEmpty());
    }

    @Test
    void aDeleteThroughTheBalancerCancelsTheCatchUpAndAFailedPullOwesNothing() throws Exception {
        ejectB();
        parseLikeOllamaJs(Http.post(url("/api/pull"), "{\"model\":\"" + PULLED + "\"}").body());
        assertThat(Http.post(url("/api/pull"), "{\"model\":\"nope\",\"stream\":false}").statusCode())
                .as("a pull that failed everywhere").isEqualTo(500);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                JSON.readTree(Http.get(url("/balancer/status")).body()).findValues("catchUp"))
                .as("b owes the pulled model only").hasSize(1));
        assertThat(delete(url("/api/delete"), "{\"model\":\"" + PULLED + "\"}").statusCode()).isEqualTo(200);

        fleet.sim(1).faults().refuseConnections(false);
        awaitHealth("b", "up");
        // Give a catch-up every chance to run (the ensurer looks at a returning backend at once).
        Thread.sleep(1_000);
        assertThat(fleet.sim(1).hasModel(PULLED)).as("the delete is not undone").isFalse();
        assertThat(fleet.sim(1).counters().pulls()).isZero();
        assertThat(JSON.readTree(Http.get(url("/balancer/status")).body()).findValues("catchUp")).isEmpty();
    }

    @Test
    void deleteReachesEveryBackendThatHasTheModelThen404() throws Exception {
        HttpResponse<String> gone = delete(url("/api/delete"), "{\"model\":\"" + INSTALLED + "\"}");
        assertThat(gone.statusCode()).isEqualTo(200);
        assertThat(gone.body()).isEmpty();
        for (int i = 0; i < 3; i++) {
            assertThat(fleet.sim(i).hasModel(INSTALLED)).isFalse();
            assertThat(statusModels(fleet.sim(i).config().name())).doesNotContain(INSTALLED);
        }
        HttpResponse<String> again = delete(url("/api/delete"), "{\"name\":\"" + INSTALLED + "\"}");
        assertThat(again.statusCode()).isEqualTo(404);
        assertThat(again.body()).isEqualTo("{\"error\":\"model '" + INSTALLED + "' not found\"}");
    }

    @Test
    void copyAndCreateFromAnInstalledModelReachEveryBackendHoldingIt() throws Exception {
        HttpResponse<String> copied = Http.post(url("/api/copy"),
                "{\"source\":\"" + INSTALLED + "\",\"destination\":\"mine:1b\"}");
        assertThat(copied.statusCode()).isEqualTo(200);
        assertThat(copied.body()).isEmpty();
        HttpResponse<String> created = Http.post(url("/api/create"),
                "{\"model\":\"derived:1b\",\"from\":\"" + INSTALLED + "\"}");
        assertThat(created.statusCode()).isEqualTo(200);
        assertThat(created.headers().firstValue("x-balancer-backend")).hasValue("a,b,c");
        List<JsonNode> parts = parseLikeOllamaJs(created.body());
        assertThat(parts.stream().filter(p -> p.path("status").asText().equals("writing manifest")).count())
                .isEqualTo(1);
        for (int i = 0; i < 3; i++) {
            assertThat(fleet.sim(i).hasModel("mine:1b")).isTrue();
            assertThat(fleet.sim(i).hasModel("derived:1b")).isTrue();
            assertThat(statusModels(fleet.sim(i).config().name())).contains("mine:1b", "derived:1b");
        }
        HttpResponse<String> missing = Http.post(url("/api/copy"), "{\"source\":\"nope\",\"destination\":\"x\"}");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(missing.body()).get("error").asText())
                .isEqualTo("backend 'a': model \"nope\" not found");
    }
}

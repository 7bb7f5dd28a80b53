package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Declared models ({@code ensureModels}) and aliases over real sockets: simulators that lack a declared model get it
 * from their simulated registry through the balancer's own pulls, and an alias reaches the backend as its target.
 * Every simulator starts with {@value #INSTALLED} only; {@value #PULLED} and {@value #EMBED} are in the registry.
 */
class DeclaredModelsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INSTALLED = "llama3.2:1b";
    private static final String PULLED = "qwen2.5:0.5b";
    private static final String EMBED = "all-minilm";
    private static final String BROKEN = "max retries exceeded: unexpected EOF";

    @TempDir
    Path dir;
    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    /** Two simulators, "a" and "b", and a backends file in the object form with {@code extra} top-level fields. */
    private Path sims(String extraTop, String extraB) throws Exception {
        fleet = new TestFleet();
        for (String name : List.of("a", "b")) {
            fleet.sim(name, b -> b.models(List.of(
                    SimModel.completion(INSTALLED, 1_300_000_000L, "llama", "1.2B", "Q8_0", false))));
        }
        Path file = dir.resolve("backends.json");
        write(file, extraTop, extraB);
        return file;
    }

    private void write(Path file, String extraTop, String extraB) throws Exception {
        List<String> entries = new ArrayList<>();
        for (BackendConfig b : fleet.backends()) {
            String own = b.name().equals("b") && !extraB.isEmpty() ? ", " + extraB : "";
            entries.add("{\"name\":\"" + b.name() + "\",\"url\":\"" + b.url() + "\",\"maxConcurrency\":2" + own + "}");
        }
        String json = "{" + (extraTop.isEmpty() ? "" : extraTop + ", ") + "\"backends\": [" + String.join(",", entries)
                + "]}";
        Path tmp = file.resolveSibling("backends.json.tmp");
        Files.writeString(tmp, json, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private void startBalancer(Path file) throws Exception {
        fleet.start(b -> b.backendsFile(file));
    }

    /** The declared model's entry in {@code /balancer/status} for {@code backend}, or a missing node. */
    private JsonNode declared(String backend, String model) throws Exception {
        JsonNode status = JSON.readTree(Http.get(fleet.url() + "/balancer/status").body());
        for (JsonNode b : status.get("backends")) {
            if (b.get("name").asText().equals(backend)) {
                for (JsonNode m : b.get("ensureModels")) {
                    if (m.get("model").asText().equals(model)) {
                        return m;
                    }
                }
            }
        }
        return JSON.missingNode();
    }

    private String state(String backend, String model) throws Exception {
        return declared(backend, model).path("state").asText("absent");
    }

    private String metrics() throws Exception {
        return Http.get(fleet.url() + "/metrics").body();
    }

    @Test
    void atStartUpEachBackendGetsWhatIsDeclaredForItAndTheStatusShowsItPresent() throws Exception {
        startBalancer(sims("\"ensureModels\": [\"" + PULLED + "\", \"" + INSTALLED + "\"]",
                "\"ensureModels\": [\"" + EMBED + "\"]"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(state("a", PULLED)).isEqualTo("present");
            assertThat(state("b", PULLED)).isEqualTo("present");
            assertThat(state("b", EMBED)).isEqualTo("present");
        });
        assertThat(state("a", INSTALLED)).isEqualTo("present");
        assertThat(state("a", EMBED)).as("declared for b only").isEqualTo("absent");
        assertThat(fleet.sim(0).hasModel(PULLED)).isTrue();
        assertThat(fleet.sim(1).hasModel(EMBED)).isTrue();
        assertThat(fleet.sim(0).hasModel(EMBED)).isFalse();
        String m = metrics();
        assertThat(m).contains("ollama_balancer_ensure_models_missing{backend=\"a\"} 0")
                .contains("ollama_balancer_ensure_pulls_total{backend=\"a\",result=\"success\"} 1")
                .contains("ollama_balancer_ensure_pulls_total{backend=\"b\",result=\"success\"} 2");
    }

    @Test
    void aBackendThatWasDownGetsTheMissingModelWhenItReturns() throws Exception {
        Path file = sims("\"ensureModels\": [\"" + PULLED + "\"]", "");
        fleet.sim(1).faults().refuseConnections(true);
        startBalancer(file);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(state("a", PULLED)).isEqualTo("present"));
        assertThat(state("b", PULLED)).isEqualTo("waiting");
        assertThat(metrics()).contains("ollama_balancer_ensure_models_missing{backend=\"b\"} 1");
        assertThat(fleet.sim(1).hasModel(PULLED)).isFalse();

        fleet.sim(1).faults().refuseConnections(false);
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(state("b", PULLED)).isEqualTo("present"));
        assertThat(fleet.sim(1).hasModel(PULLED)).isTrue();
    }

    @Test
    void aFailedPullIsShownWithItsErrorAndTriedAgainAfterTheBackoff() throws Exception {
        Path file = sims("\"ensureModels\": [\"" + PULLED + "\"]", "");
        fleet.sim(0).faults().failPullAfterSteps(3);
        startBalancer(file);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(state("a", PULLED)).isEqualTo("failed"));
        JsonNode failed = declared("a", PULLED);
        assertThat(failed.get("lastError").asText()).isEqualTo(BROKEN);
        assertThat(failed.get("failures").asInt()).isEqualTo(1);
        assertThat(failed.get("nextRetryAt").asText()).isNotEmpty();
        assertThat(metrics()).contains("ollama_balancer_ensure_pulls_total{backend=\"a\",result=\"failure\"} 1")
                .contains("ollama_balancer_ensure_models_missing{backend=\"a\"} 1");
        assertThat(state("b", PULLED)).as("b's pulls are its own").isIn("pulling", "present");

        fleet.sim(0).faults().failPullAfterSteps(0);
        // First retry after 5 s.
        await().atMost(Duration.ofSeconds(12)).untilAsserted(() ->
                assertThat(state("a", PULLED)).isEqualTo("present"));
        assertThat(fleet.sim(0).hasModel(PULLED)).isTrue();
        assertThat(declared("a", PULLED).get("lastError").isNull()).isFalse(); // the last error stays for the record
        assertThat(metrics()).contains("ollama_balancer_ensure_pulls_total{backend=\"a\",result=\"success\"} 1");
    }

    @Test
    void aFileReloadThatDeclaresAModelGetsItPulled() throws Exception {
        Path file = sims("", "");
        startBalancer(file);
        assertThat(state("a", PULLED)).isEqualTo("absent");
        write(file, "\"ensureModels\": [\"" + PULLED + "\"]", "");
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(state("a", PULLED)).isEqualTo("present");
            assertThat(state("b", PULLED)).isEqualTo("present");
        });
        assertThat(fleet.sim(1).hasModel(PULLED)).isTrue();
    }

    @Test
    void anAliasIsForwardedAsItsTargetAndListedBesideIt() throws Exception {
        startBalancer(sims("\"ensureModels\": [\"" + INSTALLED + "\"], \"aliases\": {\"chat\": \"" + INSTALLED
                + "\"}", ""));
        HttpResponse<String> gen = Http.post(fleet.url() + "/api/generate",
                "{\"model\":\"chat\",\"prompt\":\"hello\",\"stream\":false}");
        assertThat(gen.statusCode()).as(gen.body()).isEqualTo(200);
        // The simulator answers with the model its body named: the target, so the body was rewritten.
        assertThat(JSON.readTree(gen.body()).get("model").asText()).isEqualTo(INSTALLED);

        HttpResponse<String> chat = Http.post(fleet.url() + "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\" : \"Chat\"}");
        assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
        assertThat(JSON.readTree(chat.body()).get("model").asText()).isEqualTo(INSTALLED);
        HttpResponse<String> show = Http.post(fleet.url() + "/api/show", "{\"model\":\"chat\"}");
        assertThat(show.statusCode()).as(show.body()).isEqualTo(200);
        HttpResponse<String> one = Http.get(fleet.url() + "/v1/models/chat");
        assertThat(one.statusCode()).as(one.body()).isEqualTo(200);
        assertThat(JSON.readTree(one.body()).get("id").asText()).isEqualTo(INSTALLED);
        // A load request (no prompt) fans out to the holders, with the rewritten body too.
        HttpResponse<String> load = Http.post(fleet.url() + "/api/generate", "{\"model\":\"chat\"}");
        assertThat(load.statusCode()).as(load.body()).isEqualTo(200);
        assertThat(JSON.readTree(load.body()).get("model").asText()).isEqualTo(INSTALLED);

        JsonNode tags = JSON.readTree(Http.get(fleet.url() + "/api/tags").body());
        JsonNode alias = null;
        JsonNode target = null;
        for (JsonNode m : tags.get("models")) {
            if (m.get("name").asText().equals("chat")) {
                alias = m;
            } else if (m.get("name").asText().equals(INSTALLED)) {
                target = m;
            }
        }
        assertThat(alias).as(tags.toString()).isNotNull();
        assertThat(target).isNotNull();
        assertThat(alias.get("model").asText()).isEqualTo("chat");
        assertThat(alias.get("digest")).isEqualTo(target.get("digest"));
        assertThat(alias.get("details")).isEqualTo(target.get("details"));

        JsonNode v1 = JSON.readTree(Http.get(fleet.url() + "/v1/models").body());
        List<String> ids = new ArrayList<>();
        v1.get("data").forEach(d -> ids.add(d.get("id").asText()));
        assertThat(ids).contains("chat", INSTALLED);
        assertThat(ids.stream().collect(Collectors.toSet())).hasSameSizeAs(ids);
    }
}

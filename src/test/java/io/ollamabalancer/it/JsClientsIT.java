package io.ollamabalancer.it;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.NodeClients;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The official JavaScript clients (ollama-js and the OpenAI SDK on {@code /v1}), unchanged, through the balancer:
 * runs {@code clients/js/clients.test.mjs} with node's test runner against two simulators behind a balancer.
 * Skipped when node or npm is missing, or when the client packages cannot be installed because the package registry
 * is unreachable ({@link NodeClients}); a failing JavaScript check fails this test and prints node's output. The same
 * clients with API keys are {@link JsClientKeysIT}.
 */
class JsClientsIT {
    private static final String MODEL = "llama3.2:1b";
    private static final String EMBEDDER = "all-minilm";
    /** An alias of MODEL declared in the backends file. */
    private static final String ALIAS = "chat";
    /** What the JavaScript check creates from a blob it uploads to the second backend, "b". */
    private static final String CREATED = "js-made:1b";
    /** What the JavaScript check pulls: in the simulators' registry, on neither backend. */
    private static final String PULLED = "qwen2.5:0.5b";
    private static final int EMBED_DIMS = 16;
    private static final List<SimModel> MODELS = List.of(
            SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true),
            SimModel.embedding(EMBEDDER, 45_000_000L, "bert", "23M", "F16", EMBED_DIMS, true));

    /** Two simulators behind a balancer. */
    private static TestFleet startFleet() throws InterruptedException {
        // A mean far above the cap makes nearly every answer the full 40 tokens, 400 ms at this rate: long enough
        // for the abort checks to cut a stream the backend is really still sending, even on a busy machine, and
        // short enough to keep the whole run within seconds.
        TestFleet fleet = new TestFleet()
                .sim("a", b -> b.models(MODELS).meanOutputTokens(2_000).maxOutputTokens(40).decodeTokensPerSecond(100))
                .sim("b", b -> b.models(MODELS).meanOutputTokens(2_000).maxOutputTokens(40).decodeTokensPerSecond(100));
        // The object form of the backends file, declaring an alias of MODEL for the alias checks.
        StringBuilder entries = new StringBuilder();
        for (BackendConfig b : fleet.backends()) {
            entries.append(entries.length() == 0 ? "" : ",").append("{\"name\":\"").append(b.name())
                    .append("\",\"url\":\"").append(b.url()).append("\",\"maxConcurrency\":").append(b.maxConcurrency())
                    .append('}');
        }
        try {
            Path file = Files.createTempFile("js-backends", ".json");
            file.toFile().deleteOnExit();
            Files.writeString(file, "{\"ensureModels\":[\"" + MODEL + "\"],\"aliases\":{\"" + ALIAS + "\":\"" + MODEL
                    + "\"},\"backends\":[" + entries + "]}");
            return fleet.start(b -> b.backendsFile(file));
        } catch (IOException e) {
            fleet.close();
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void officialJavaScriptClientsWorkUnchanged() throws Exception {
        // Assumptions here rather than in @BeforeAll, so that a skip is reported with its reason.
        NodeClients.assumeReady("JsClientsIT");
        try (TestFleet fleet = startFleet()) {
            checkClients(fleet);
        }
    }

    private static void checkClients(TestFleet fleet) throws Exception {
        NodeClients.assertPasses("clients.test.mjs", Map.of("BALANCER_URL", fleet.url(), "COMPLETION_MODEL", MODEL,
                "EMBEDDING_MODEL", EMBEDDER, "EMBEDDING_DIMS", Integer.toString(EMBED_DIMS), "BLOB_BACKEND", "b",
                "CREATED_MODEL", CREATED, "ALIAS_MODEL", ALIAS, "PULLED_MODEL", PULLED));

        // pull() reached both backends.
        assertThat(fleet.sim(0).hasModel(PULLED) && fleet.sim(1).hasModel(PULLED)).as("pulled everywhere").isTrue();

        // create() followed the blob to "b", though "a" comes first.
        assertThat(fleet.sim(1).hasModel(CREATED)).as("the model was made where the blob is").isTrue();
        assertThat(fleet.sim(0).hasModel(CREATED)).isFalse();

        // The aborted streams must have reached the backends as cancellations, freeing their slots.
        long cancelled = fleet.sim(0).counters().cancelled() + fleet.sim(1).counters().cancelled();
        assertThat(cancelled).as("client aborts propagated to the backends").isGreaterThanOrEqualTo(3);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            for (int i = 0; i < 2; i++) {
                OllamaSimulator sim = fleet.sim(i);
                assertThat(sim.counters().activeGenerations()).as("%s active generations", sim).isZero();
            }
        });
    }
}

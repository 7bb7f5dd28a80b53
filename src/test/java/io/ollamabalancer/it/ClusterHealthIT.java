package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.server.BalancerServer;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import io.ollamabalancer.testing.Closer;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #5, shared health, through real replicas: a backend whose generations die mid-stream while its health
 * probe still answers is ejected by the replica that saw the failures, and the other replica — which never sent it
 * a request, and whose own probes find it fine — treats it as ejected too, because the ejection travels through a
 * real redis-server.
 */
class ClusterHealthIT {
    private static final String MODEL = "llama3.2:1b";
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Closer closer = new Closer();

    @AfterEach
    void stop() throws Exception {
        closer.closeAll();
    }

    private OllamaSimulator sim(String name) {
        return closer.add(OllamaSimulator.start(SimulatorConfig.builder().name(name).models(ONE_MODEL).slots(4)
                .decodeTokensPerSecond(400).jitter(0).loadTimeMillis(5).meanOutputTokens(20).maxOutputTokens(20)
                .build()));
    }

    private BalancerServer replica(List<OllamaSimulator> sims, String redisUrl) throws InterruptedException {
        List<BackendConfig> backends = sims.stream().map(s -> new BackendConfig(s.config().name(),
                URI.create(s.baseUrl()), 4, null, true)).toList();
        return closer.add(BalancerServer.start(BalancerConfig.builder().bind("127.0.0.1").port(0).backendsFile(null)
                .modelRefreshInterval(Duration.ofMillis(500)).redisUrl(redisUrl).build(), backends));
    }

    /** The named backend's entry in the replica's {@code GET /balancer/status}. */
    private static JsonNode backend(BalancerServer replica, String name) throws Exception {
        JsonNode doc = JSON.readTree(Http.get("http://127.0.0.1:" + replica.port() + "/balancer/status").body());
        for (JsonNode b : doc.get("backends")) {
            if (b.get("name").asText().equals(name)) {
                return b;
            }
        }
        throw new AssertionError("no backend " + name + " in " + doc);
    }

    private static String lastError(BalancerServer replica, String name) throws Exception {
        JsonNode e = backend(replica, name).get("lastError");
        return e == null || e.isNull() ? "" : e.asText();
    }

    @Test
    void aBackendEjectedByOneReplicaIsEjectedByTheOtherThatNeverUsedIt() throws Exception {
        RedisServerProcess redis = closer.add(RedisServerProcess.startOrSkip());
        OllamaSimulator good = sim("good");
        OllamaSimulator broken = sim("broken");
        // Every generation on "broken" dies after its first token; its probe (/api/version) still answers 200.
        broken.faults().crashAfterTokens(1);
        BalancerServer a = replica(List.of(good, broken), redis.url());
        BalancerServer b = replica(List.of(good, broken), redis.url());
        await().atMost(Duration.ofSeconds(30)).until(() -> "joined".equals(JSON.readTree(Http.get(
                "http://127.0.0.1:" + b.port() + "/balancer/status").body()).get("cluster").get("state").asText()));
        assertThat(lastError(b, "broken")).isEmpty();

        // Only A gets requests; some land on "broken" and die mid-stream until A ejects it.
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            Http.post("http://127.0.0.1:" + a.port() + "/api/generate", "{\"model\":\"" + MODEL
                    + "\",\"prompt\":\"hi\",\"stream\":true,\"options\":{\"num_predict\":5}}");
            return !lastError(a, "broken").isEmpty() && !"up".equals(backend(a, "broken").get("health").asText());
        });

        // B sent it nothing, yet learns of the ejection from A through Redis (its last error names A).
        await().atMost(Duration.ofSeconds(30)).until(() -> lastError(b, "broken").contains("ejected by replica"));
        assertThat(lastError(b, "good")).isEmpty();
    }
}

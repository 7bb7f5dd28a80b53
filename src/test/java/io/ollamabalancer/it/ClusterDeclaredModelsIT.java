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
 * Declared models in cluster mode: two replicas sharing one fleet through a real redis-server both want a model
 * that neither backend has, and each backend is pulled to once, by whichever replica claimed it, not by both.
 */
class ClusterDeclaredModelsIT {
    private static final String INSTALLED = "llama3.2:1b";
    private static final String PULLED = "qwen2.5:0.5b";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Closer closer = new Closer();

    @AfterEach
    void stop() throws Exception {
        closer.closeAll();
    }

    private OllamaSimulator sim(String name) {
        OllamaSimulator sim = closer.add(OllamaSimulator.start(SimulatorConfig.builder().name(name)
                .models(List.of(SimModel.completion(INSTALLED, 1_300_000_000L, "llama", "1.2B", "Q8_0", false)))
                .build()));
        // A pull that lasts a few seconds, so that both replicas look while it runs.
        sim.faults().pullStepMillis(250);
        return sim;
    }

    private BalancerServer replica(List<OllamaSimulator> sims, String redisUrl) throws Exception {
        List<BackendConfig> backends = sims.stream().map(s -> new BackendConfig(s.config().name(),
                URI.create(s.baseUrl()), 2, null, true)).toList();
        return closer.add(BalancerServer.start(BalancerConfig.builder().bind("127.0.0.1").port(0).backendsFile(null)
                .modelRefreshInterval(Duration.ofMillis(300)).redisUrl(redisUrl).ensureModels(List.of(PULLED))
                .build(), backends));
    }

    private static String state(BalancerServer replica, String backend) throws Exception {
        JsonNode doc = JSON.readTree(Http.get("http://127.0.0.1:" + replica.port() + "/balancer/status").body());
        for (JsonNode b : doc.get("backends")) {
            if (b.get("name").asText().equals(backend)) {
                for (JsonNode m : b.path("ensureModels")) {
                    if (m.get("model").asText().equals(PULLED)) {
                        return m.path("state").asText();
                    }
                }
            }
        }
        return "absent";
    }

    @Test
    void twoReplicasPullADeclaredModelOntoEachBackendOnce() throws Exception {
        RedisServerProcess redis = closer.add(RedisServerProcess.startOrSkip());
        List<OllamaSimulator> sims = List.of(sim("a"), sim("b"));
        BalancerServer one = replica(sims, redis.url());
        BalancerServer two = replica(sims, redis.url());

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            for (BalancerServer r : List.of(one, two)) {
                assertThat(state(r, "a")).isEqualTo("present");
                assertThat(state(r, "b")).isEqualTo("present");
            }
        });
        for (OllamaSimulator s : sims) {
            assertThat(s.hasModel(PULLED)).isTrue();
            assertThat(s.counters().pulls()).as("pulls received by %s", s.config().name()).isEqualTo(1);
        }
    }
}

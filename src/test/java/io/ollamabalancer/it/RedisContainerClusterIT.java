package io.ollamabalancer.it;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.server.BalancerServer;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import io.ollamabalancer.testing.Closer;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.OllamaContainers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ClusterIT}'s slot-limit check against the Redis image the compose file runs ({@code redis:7-alpine}, in
 * Docker) instead of the distribution's {@code redis-server}: two replicas share two simulated backends through it,
 * and under a load far above capacity no backend ever runs more than its slots. What it adds: the Lua scripts and
 * commands the cluster uses, run by the Redis version deployments use.
 *
 * <p>Tagged {@code docker}: run by {@code mvn -B verify -Preal-ollama}, skipped with the reason without Docker.
 */
@Tag("docker")
@Testcontainers(disabledWithoutDocker = true)
class RedisContainerClusterIT {
    private static final int SLOTS = 2;
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));

    private final Closer open = new Closer();
    private String redisUrl;

    @BeforeEach
    void startRedis() {
        OllamaContainers.requireDocker();
        GenericContainer<?> redis = new GenericContainer<>(DockerImageName.parse("redis:7-alpine"))
                .withExposedPorts(6379);
        redis.start();
        open.add(redis::stop);
        redisUrl = "redis://" + redis.getHost() + ":" + redis.getMappedPort(6379);
    }

    @AfterEach
    void stop() throws Exception {
        open.closeAll();
    }

    @Test
    void slotLimitsHoldAcrossReplicasThroughRedisInDocker() throws Exception {
        List<BackendConfig> backends = new ArrayList<>();
        List<OllamaSimulator> sims = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            OllamaSimulator s = open.add(OllamaSimulator.start(SimulatorConfig.builder().name("sim" + i)
                    .models(ONE_MODEL).slots(SLOTS * 4).decodeTokensPerSecond(200).jitter(0).loadTimeMillis(5)
                    .meanOutputTokens(20).maxOutputTokens(20).build()));
            sims.add(s);
            backends.add(new BackendConfig(s.config().name(), URI.create(s.baseUrl()), SLOTS, null, true));
        }
        List<BalancerServer> replicas = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            replicas.add(open.add(BalancerServer.start(BalancerConfig.builder().bind("127.0.0.1").port(0)
                    .backendsFile(null).modelRefreshInterval(Duration.ofMillis(500)).redisUrl(redisUrl).build(),
                    backends)));
        }
        List<CompletableFuture<Integer>> calls = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            BalancerServer via = replicas.get(i % 2);
            String body = "{\"model\":\"llama3.2:1b\",\"prompt\":\"job " + i + "\",\"stream\":false}";
            calls.add(Http.postAsync("http://127.0.0.1:" + via.port() + "/api/generate", body, "X-Request-Id",
                    "cluster-" + i, Duration.ofSeconds(120)).thenApply(r -> r.statusCode()));
        }
        for (CompletableFuture<Integer> c : calls) {
            assertThat(c.get()).isEqualTo(200);
        }
        for (OllamaSimulator s : sims) {
            assertThat(s.counters().peakConcurrentGenerations()).as("peak on %s", s.config().name())
                    .isLessThanOrEqualTo(SLOTS);
            assertThat(s.counters().peakConcurrentGenerations()).as("%s was used", s.config().name()).isPositive();
        }
    }
}

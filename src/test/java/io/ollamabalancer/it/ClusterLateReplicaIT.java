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
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #5: a replica started late routes well from its first request. Replica A learns a fast (600 tok/s) and a
 * slow (60 tok/s) backend and publishes what it learned to a real redis-server; replica B, started afterwards,
 * shows both speeds before serving anything and sends its first requests to the fast backend. A third replica
 * without Redis knows no speeds at all: the same check fails there, so it really measures the shared state.
 */
class ClusterLateReplicaIT {
    private static final String MODEL = "llama3.2:1b";
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
    /** Every answer is exactly this long: num_predict cuts the sim's far longer drawn answers. */
    private static final int OUTPUT = 30;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Closer open = new Closer();

    @AfterEach
    void stop() throws Exception {
        open.closeAll();
    }

    private OllamaSimulator sim(String name, double decodeTps) {
        OllamaSimulator s = OllamaSimulator.start(SimulatorConfig.builder().name(name).models(ONE_MODEL).slots(1)
                .decodeTokensPerSecond(decodeTps).jitter(0).loadTimeMillis(5).meanOutputTokens(100 * OUTPUT)
                .maxOutputTokens(100 * OUTPUT).build());
        open.add(s);
        return s;
    }

    /** A replica over both sims, slow listed first: with nothing learned, ties favour it, not the fast one. */
    private BalancerServer replica(List<OllamaSimulator> sims, String redisUrl) throws InterruptedException {
        List<BackendConfig> backends = new ArrayList<>();
        for (OllamaSimulator s : sims) {
            backends.add(new BackendConfig(s.config().name(), URI.create(s.baseUrl()), 1, null, true));
        }
        BalancerServer b = BalancerServer.start(BalancerConfig.builder().bind("127.0.0.1").port(0).backendsFile(null)
                .modelRefreshInterval(Duration.ofMillis(500)).redisUrl(redisUrl).build(), backends);
        open.add(b);
        return b;
    }

    /** One generation through {@code via}; returns the backend that served it ({@code X-Balancer-Backend}). */
    private static String generate(BalancerServer via, int n) throws Exception {
        HttpResponse<String> r = Http.post("http://127.0.0.1:" + via.port() + "/api/generate",
                "{\"model\":\"" + MODEL + "\",\"prompt\":\"job " + n + "\",\"stream\":false,"
                        + "\"options\":{\"num_predict\":" + OUTPUT + "}}");
        assertThat(r.statusCode()).as("request %d: %s", n, r.body()).isEqualTo(200);
        return r.headers().firstValue("X-Balancer-Backend").orElse("?");
    }

    /** Backend name → learned decode tokens per second for the model, from {@code GET /balancer/status}. */
    private static Map<String, Double> statusSpeeds(BalancerServer via) throws Exception {
        Map<String, Double> out = new HashMap<>();
        JsonNode status = JSON.readTree(Http.get("http://127.0.0.1:" + via.port() + "/balancer/status").body());
        for (JsonNode b : status.get("backends")) {
            for (JsonNode s : b.get("speeds")) {
                if (s.get("model").asText().equals(MODEL) && s.has("decodeTokensPerSecond")) {
                    out.put(b.get("name").asText(), s.get("decodeTokensPerSecond").asDouble());
                }
            }
        }
        return out;
    }

    /** The sample count behind the decode speed of {@code backend} that replicas published ({@code w=…;…}). */
    private static double publishedWeight(RedisServerProcess redis, String backend) throws Exception {
        String reply = redis.command("HGETALL", "{ollama-balancer}:stat:speed|" + backend + "|" + MODEL);
        Matcher m = Pattern.compile("(?m)^w=([0-9.Ee+-]+);").matcher(reply);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
        }
        return total;
    }

    /**
     * Whether a replica knows both speeds and the fast backend as clearly the faster one. Twice, not ten times:
     * one slow sample is shrunk toward the fleet's speed (the cost model's prior), and A measures slow once or twice.
     */
    private static boolean knowsBothSpeeds(Map<String, Double> speeds) {
        return speeds.containsKey("fast") && speeds.containsKey("slow")
                && speeds.get("fast") > 2 * speeds.get("slow");
    }

    @Test
    void aReplicaStartedLateRoutesWellFromItsFirstRequest() throws Exception {
        RedisServerProcess redis = RedisServerProcess.startOrSkip();
        open.add(redis);
        OllamaSimulator slow = sim("slow", 60);
        OllamaSimulator fast = sim("fast", 600);
        List<OllamaSimulator> sims = List.of(slow, fast);

        BalancerServer a = replica(sims, redis.url());
        List<String> warmUp = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            warmUp.add(generate(a, i));
        }
        assertThat(warmUp).as("A's warm-up measured both backends").contains("slow", "fast");
        assertThat(knowsBothSpeeds(statusSpeeds(a))).as("A learned both speeds: %s", statusSpeeds(a)).isTrue();
        // A publishes every stats interval (2 s by default): wait until its records in Redis count every sample.
        long onSlow = warmUp.stream().filter("slow"::equals).count();
        long onFast = warmUp.stream().filter("fast"::equals).count();
        await().atMost(Duration.ofSeconds(6)).pollInterval(Duration.ofMillis(100))
                .until(() -> publishedWeight(redis, "slow") == onSlow && publishedWeight(redis, "fast") == onFast);

        // A has nothing waiting, so its queue mirror must be empty: a leftover entry would rank as a better request
        // waiting on A, and the slot ledger would hold B's slots back for it.
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(redis.command("KEYS", "{ollama-balancer}:q:*"))
                        .as("A's mirrored queue after its warm-up (stale entries: a queue listener race)").isEmpty());

        BalancerServer b = replica(sims, redis.url());
        // (a) before serving anything, B's status already shows both speeds, the fast one clearly faster
        Map<String, Double> warm = statusSpeeds(b);
        assertThat(knowsBothSpeeds(warm)).as("B's learned speeds before its first request: %s", warm).isTrue();

        // (b) B's first requests go to the fast backend, the very first included: without the shared speeds the
        // first is a tie, which goes to slow (listed first); B learns fast's speed only after that.
        List<String> served = new ArrayList<>();
        for (int i = 100; i < 106; i++) {
            served.add(generate(b, i));
        }
        assertThat(served.get(0)).as("B's first request, of %s", served).isEqualTo("fast");
        assertThat(served.stream().filter("fast"::equals).count()).as("B's first 6 requests: %s", served)
                .isGreaterThanOrEqualTo(5);

        // Control: the same check on a replica without the shared state fails — it has learned nothing.
        BalancerServer alone = replica(sims, null);
        Map<String, Double> cold = statusSpeeds(alone);
        assertThat(knowsBothSpeeds(cold)).as("a replica without Redis: %s", cold).isFalse();
    }
}

package io.ollamabalancer.it;

import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fair share over real sockets: a simulator with two slots, a heavy key that floods the queue and a light key that
 * sends a few requests after it. With fair share (the default) the light key's requests go next to the head of the
 * queue; with {@code --fair-share off} they wait behind the whole flood.
 */
class FairShareIT {
    private static final String MODEL = "llama3.2:1b";
    private static final int FLOOD = 40;
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;
    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    /** The order in which requests finished ("heavy" or "light"), with the flood and then the light key's three. */
    private List<String> run(UnaryOperator<BalancerConfig.Builder> config) throws Exception {
        Path keys = dir.resolve("keys.json");
        Files.writeString(keys, "{\"keys\": [{\"name\": \"heavy\", \"key\": \"sk-heavy\"},"
                + " {\"name\": \"light\", \"key\": \"sk-light\"}]}");
        fleet = new TestFleet().sim("a", b -> b.models(List.of(SimModel.completion(MODEL, 1_300_000_000L, "llama",
                "1.2B", "Q8_0", true))).slots(2).decodeTokensPerSecond(100).meanOutputTokens(20)
                .maxOutputTokens(20)).start(c -> config.apply(c.apiKeysFile(keys)));
        // Warm-up: the scheduler learns the simulator's speed first, so the flood and the light key's requests carry
        // the same expected length (otherwise shortest-job-first alone would let later, better-estimated ones ahead).
        for (int i = 0; i < 6; i++) {
            assertThat(post(i % 2 == 0 ? "sk-heavy" : "sk-light").get(30, TimeUnit.SECONDS).statusCode())
                    .isEqualTo(200);
        }
        List<String> finished = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < FLOOD; i++) {
            all.add(post("sk-heavy").whenComplete((r, e) -> finished.add("heavy")));
        }
        // Every request of the flood reached the balancer (waiting, running on the two slots, or finished).
        await().atMost(Duration.ofSeconds(20)).until(() -> depth() + 2 + finished.size() >= FLOOD);
        for (int i = 0; i < 3; i++) {
            all.add(post("sk-light").whenComplete((r, e) -> finished.add("light")));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            assertThat(f.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        return new ArrayList<>(finished);
    }

    private CompletableFuture<HttpResponse<String>> post(String key) {
        HttpRequest r = HttpRequest.newBuilder(URI.create(fleet.url() + "/api/generate"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"prompt\":\"hello there\","
                        + "\"stream\":false,\"options\":{\"num_predict\":20}}"))
                .build();
        return CLIENT.sendAsync(r, HttpResponse.BodyHandlers.ofString());
    }

    private int depth() throws Exception {
        String prefix = "ollama_balancer_queue_depth{model=\"" + MODEL + "\"} ";
        for (String line : Http.get(fleet.url() + "/metrics").body().split("\n")) {
            if (line.startsWith(prefix)) {
                return (int) Double.parseDouble(line.substring(prefix.length()));
            }
        }
        return 0;
    }

    private static int lastLight(List<String> finished) {
        return finished.lastIndexOf("light");
    }

    @Test
    void aKeyThatFloodsTheQueueDelaysItselfNotTheOtherKey() throws Exception {
        List<String> finished = run(c -> c);
        // Waiting when the light key came: the whole flood but what finished meanwhile. Its three go with the next few.
        assertThat(lastLight(finished)).as("light key's last request, in finishing order: %s", finished)
                .isLessThan(FLOOD / 2);
    }

    @Test
    void withFairShareOffTheLightKeyWaitsBehindTheFlood() throws Exception {
        List<String> finished = run(c -> c.fairShare(false));
        assertThat(lastLight(finished)).as("light key's last request, in finishing order: %s", finished)
                .isGreaterThanOrEqualTo(FLOOD - 2);
    }
}

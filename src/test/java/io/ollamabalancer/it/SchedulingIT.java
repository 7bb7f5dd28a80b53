package io.ollamabalancer.it;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.RawClient;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The cost-aware scheduler through real sockets, in front of simulators of different speeds. */
class SchedulingIT {
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private static String generate(int tokens, String tag) {
        return "{\"model\":\"llama3.2:1b\",\"prompt\":\"" + tag + "\",\"stream\":false,\"options\":{\"num_predict\":"
                + tokens + "}}";
    }

    @Test
    void theFastBackendGetsTheLargerShare() throws Exception {
        fleet = new TestFleet()
                .sim("fast", b -> b.models(ONE_MODEL).slots(1).decodeTokensPerSecond(600).meanOutputTokens(30)
                        .maxOutputTokens(30))
                .sim("slow", b -> b.models(ONE_MODEL).slots(1).decodeTokensPerSecond(100).meanOutputTokens(30)
                        .maxOutputTokens(30))
                .start();
        // Warm-up so the balancer has learned both speeds from Ollama's timing fields.
        for (int i = 0; i < 4; i++) {
            Http.post(fleet.url() + "/api/generate", generate(20, "warm " + i));
        }
        ConcurrentHashMap<String, AtomicInteger> share = new ConcurrentHashMap<>();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            int n = i;
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", generate(20, "job " + n));
                    assertThat(r.statusCode()).isEqualTo(200);
                    share.computeIfAbsent(r.headers().firstValue("x-balancer-backend").orElse("?"),
                            k -> new AtomicInteger()).incrementAndGet();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get();
        int fast = share.getOrDefault("fast", new AtomicInteger()).get();
        int slow = share.getOrDefault("slow", new AtomicInteger()).get();
        assertThat(fast + slow).isEqualTo(24);
        assertThat(fast).as("fast=%d slow=%d", fast, slow).isGreaterThan(slow * 2);
    }

    @Test
    void aHighPriorityRequestOvertakesQueuedLowPriorityOnes() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(1).decodeTokensPerSecond(100)
                .meanOutputTokens(400).maxOutputTokens(400)).start();
        List<String> finished = Collections.synchronizedList(new ArrayList<>());
        try (RawClient blocker = new RawClient(fleet.port())) {
            blocker.post("/api/generate", "{\"model\":\"llama3.2:1b\",\"prompt\":\"block\",\"options\":"
                    + "{\"num_predict\":40}}");
            blocker.readUntil("\"done\":false");
            List<CompletableFuture<Void>> queued = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                queued.add(send("low-" + i, "low", finished));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> depth() == 3);
            queued.add(send("high", "high", finished));
            await().atMost(Duration.ofSeconds(5)).until(() -> depth() == 4);
            blocker.readUntil("\"done\":true");
            CompletableFuture.allOf(queued.toArray(CompletableFuture[]::new)).get();
        }
        assertThat(finished.get(0)).as("order: %s", finished).isEqualTo("high");
    }

    private CompletableFuture<Void> send(String tag, String priority, List<String> finished) {
        return CompletableFuture.runAsync(() -> {
            try {
                HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", generate(3, tag), "X-Priority",
                        priority);
                assertThat(r.statusCode()).isEqualTo(200);
                finished.add(tag);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private int depth() throws Exception {
        String body = Http.get(fleet.url() + "/metrics").body();
        for (String line : body.split("\n")) {
            if (line.startsWith("ollama_balancer_queue_depth{")) {
                return (int) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }
}

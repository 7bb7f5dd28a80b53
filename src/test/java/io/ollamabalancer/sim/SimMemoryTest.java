package io.ollamabalancer.sim;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.ollamabalancer.sim.SimHttp.list;
import static io.ollamabalancer.sim.SimHttp.num;
import static io.ollamabalancer.sim.SimHttp.obj;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Memory limits over real sockets: serial loads, eviction order, waiting for busy victims, /api/ps and counters. */
class SimMemoryTest {
    private static final long LOAD_MILLIS = 150;
    private static final long MS = 1_000_000L;
    /** 100 tokens/s: num_predict 40 keeps a model busy for 400 ms. */
    private static final double DECODE = 100;

    private static SimulatorConfig.Builder config(SimModel... models) {
        return SimulatorConfig.builder().name("mem").models(List.of(models)).slots(4).loadTimeMillis(LOAD_MILLIS)
                .decodeTokensPerSecond(DECODE).prefillTokensPerSecond(100_000).decodeSlowdown(0).jitter(0).gpu(true);
    }

    private static SimModel model(String name, long size) {
        return SimModel.completion(name, size, "llama", "1B", "Q4_K_M", false);
    }

    private static String body(String model, int numPredict) {
        return "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":"
                + numPredict + "}}";
    }

    private static Map<String, Object> generate(OllamaSimulator sim, String model, int numPredict) throws Exception {
        HttpResponse<String> r = SimHttp.post(sim, "/api/generate", body(model, numPredict));
        assertThat(r.statusCode()).isEqualTo(200);
        return obj(r.body());
    }

    private static CompletableFuture<Map<String, Object>> generateAsync(OllamaSimulator sim, String model,
                                                                        int numPredict) {
        return SimHttp.CLIENT.sendAsync(SimHttp.postRequest(sim, "/api/generate", body(model, numPredict)),
                HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
                    assertThat(r.statusCode()).isEqualTo(200);
                    return obj(r.body());
                });
    }

    private static List<String> ps(OllamaSimulator sim) throws Exception {
        return list(obj(SimHttp.get(sim, "/api/ps").body()).get("models")).stream()
                .map(m -> (String) obj(m).get("name")).toList();
    }

    private static long loadMillis(Map<String, Object> done) {
        return num(done.get("load_duration")) / MS;
    }

    @Test
    void loadingASecondModelEvictsTheFirstWhenOnlyOneFits() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000), model("b", 1000))
                .maxLoadedModels(1).build())) {
            assertThat(loadMillis(generate(sim, "a", 3))).isGreaterThanOrEqualTo(LOAD_MILLIS);
            assertThat(ps(sim)).containsExactly("a:latest");
            assertThat(loadMillis(generate(sim, "b", 3))).isGreaterThanOrEqualTo(LOAD_MILLIS);
            assertThat(ps(sim)).containsExactly("b:latest");
            assertThat(sim.counters().loads()).isEqualTo(2);
            assertThat(sim.counters().evictions()).isEqualTo(1);
            assertThat(SimHttp.get(sim, "/sim/counters").body()).contains("\"loads\":2", "\"evictions\":1");
            // Warm again: no load.
            assertThat(loadMillis(generate(sim, "b", 3))).isLessThan(LOAD_MILLIS);
        }
    }

    @Test
    void aLoadWaitsForTheBusyVictimsRequestToFinish() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000), model("b", 1000))
                .maxLoadedModels(1).build())) {
            generate(sim, "a", 1); // warm
            long start = System.nanoTime();
            CompletableFuture<Map<String, Object>> a = generateAsync(sim, "a", 40); // busy for ~400 ms
            Thread.sleep(100);
            Map<String, Object> b = generate(sim, "b", 3);
            long sinceA = (System.nanoTime() - start) / MS;
            Map<String, Object> aDone = a.get(5, TimeUnit.SECONDS);

            assertThat(num(aDone.get("eval_count"))).isEqualTo(40);
            assertThat(loadMillis(aDone)).isLessThan(LOAD_MILLIS); // the victim was not disturbed
            // b asked ~100 ms into a's 400 ms: it waits for the other ~300 ms, then loads (bounds allow for a slow
            // machine starting b late).
            assertThat(loadMillis(b)).isGreaterThanOrEqualTo(150 + LOAD_MILLIS);
            assertThat(sinceA).isGreaterThanOrEqualTo(400 + LOAD_MILLIS);
            assertThat(ps(sim)).containsExactly("b:latest");
            assertThat(sim.counters().evictions()).isEqualTo(1);
        }
    }

    @Test
    void requestsForAVictimDoNotKeepItAliveButQueueAReload() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000), model("b", 1000))
                .maxLoadedModels(1).build())) {
            generate(sim, "a", 1);
            CompletableFuture<Map<String, Object>> a1 = generateAsync(sim, "a", 40); // ~400 ms
            Thread.sleep(100);
            CompletableFuture<Map<String, Object>> b = generateAsync(sim, "b", 10); // waits ~300, loads, 100 ms
            Thread.sleep(100);
            Map<String, Object> a2 = generate(sim, "a", 3);

            assertThat(loadMillis(a1.get(5, TimeUnit.SECONDS))).isLessThan(LOAD_MILLIS);
            assertThat(loadMillis(b.get(5, TimeUnit.SECONDS))).isGreaterThanOrEqualTo(150 + LOAD_MILLIS);
            // a2 arrived while a was marked: a1's rest (~200) + b's load + b's 100 ms + a's reload.
            assertThat(loadMillis(a2)).isGreaterThanOrEqualTo(LOAD_MILLIS + 80 + LOAD_MILLIS);
            assertThat(ps(sim)).containsExactly("a:latest");
            assertThat(sim.counters().loads()).isEqualTo(3);
            assertThat(sim.counters().evictions()).isEqualTo(2);
        }
    }

    @Test
    void aQueuedLoadWhoseClientLeftIsDroppedButTheMarkedVictimStillUnloads() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000), model("b", 1000))
                .maxLoadedModels(1).build())) {
            generate(sim, "a", 1);
            CompletableFuture<Map<String, Object>> a = generateAsync(sim, "a", 40);
            Thread.sleep(50);
            try (RawHttp http = new RawHttp(sim.port())) {
                http.send("POST", "/api/generate", body("b", 3));
                Thread.sleep(100);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().cancelled() == 1);
            assertThat(num(a.get(5, TimeUnit.SECONDS).get("eval_count"))).isEqualTo(40);
            // As in Ollama: the victim was told to expire when idle, and the cancelled load is skipped.
            await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().evictions() == 1);
            Thread.sleep(LOAD_MILLIS + 50);
            assertThat(ps(sim)).isEmpty();
            assertThat(sim.counters().loads()).isEqualTo(1);
        }
    }

    @Test
    void theLeastRecentlyUsedIdleModelIsEvicted() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000), model("b", 1000),
                model("c", 1000)).maxLoadedModels(2).build())) {
            generate(sim, "a", 1);
            generate(sim, "b", 1);
            assertThat(ps(sim)).containsExactlyInAnyOrder("a:latest", "b:latest");
            generate(sim, "a", 1); // b is now the least recently used
            generate(sim, "c", 1);
            assertThat(ps(sim)).containsExactlyInAnyOrder("a:latest", "c:latest");
            assertThat(sim.counters().evictions()).isEqualTo(1);
        }
    }

    @Test
    void theShortestKeepAliveGoesFirstAsInOllama() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000), model("b", 1000),
                model("c", 1000)).maxLoadedModels(2).build())) {
            SimHttp.post(sim, "/api/generate", "{\"model\":\"b\",\"keep_alive\":-1}");
            SimHttp.post(sim, "/api/generate", "{\"model\":\"a\",\"keep_alive\":\"1m\"}");
            generate(sim, "c", 1); // b is less recently used, but a has the shorter keep_alive
            assertThat(ps(sim)).containsExactlyInAnyOrder("b:latest", "c:latest");
        }
    }

    @Test
    void aByteBudgetEvictsAsManyAsNeededAndAnOversizedModelLoadsAlone() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 2000), model("b", 1000),
                model("c", 800), model("huge", 4000)).vramBytes(3000).build())) {
            generate(sim, "a", 1);
            generate(sim, "b", 1); // 3000: both fit
            assertThat(ps(sim)).containsExactlyInAnyOrder("a:latest", "b:latest");
            generate(sim, "a", 1);
            generate(sim, "c", 1); // 3800: evicting b (LRU) is enough
            assertThat(ps(sim)).containsExactlyInAnyOrder("a:latest", "c:latest");
            assertThat(sim.counters().evictions()).isEqualTo(1);

            Map<String, Object> huge = generate(sim, "huge", 1);
            assertThat(loadMillis(huge)).isGreaterThanOrEqualTo(LOAD_MILLIS);
            assertThat(ps(sim)).containsExactly("huge:latest");
            assertThat(sim.counters().evictions()).isEqualTo(3);
            assertThat(sim.counters().loads()).isEqualTo(4);

            Map<String, Object> psModel = obj(list(obj(SimHttp.get(sim, "/api/ps").body()).get("models")).get(0));
            assertThat(num(psModel.get("size_vram"))).isEqualTo(num(psModel.get("size")));
            assertThat(num(psModel.get("size"))).isGreaterThanOrEqualTo(4000);
            assertThat(psModel.get("context_length")).isEqualTo(4096);
        }
    }

    @Test
    void keepAliveZeroStillUnloadsAndFreesRoomWithoutAnEviction() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000), model("b", 1000))
                .maxLoadedModels(1).gpu(false).build())) {
            SimHttp.post(sim, "/api/generate", "{\"model\":\"a\",\"prompt\":\"hi\",\"stream\":false,"
                    + "\"keep_alive\":0,\"options\":{\"num_predict\":2}}");
            assertThat(ps(sim)).isEmpty();
            assertThat(loadMillis(generate(sim, "b", 1))).isGreaterThanOrEqualTo(LOAD_MILLIS);
            Map<String, Object> psModel = obj(list(obj(SimHttp.get(sim, "/api/ps").body()).get("models")).get(0));
            assertThat(num(psModel.get("size_vram"))).isZero();
            SimHttp.post(sim, "/api/generate", "{\"model\":\"b\",\"keep_alive\":0}");
            assertThat(ps(sim)).isEmpty();
            assertThat(sim.counters().loads()).isEqualTo(2);
            assertThat(sim.counters().evictions()).isZero();
        }
    }

    /** As Ollama's scheduler: a runner joins the loaded map, which {@code /api/ps} lists, when its load starts. */
    @Test
    void aModelIsListedByPsFromTheStartOfItsLoad() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000)).loadTimeMillis(3_000).build())) {
            assertThat(ps(sim)).isEmpty();
            CompletableFuture<Map<String, Object>> a = generateAsync(sim, "a", 1);
            await().atMost(5, TimeUnit.SECONDS).until(() -> !ps(sim).isEmpty());
            assertThat(ps(sim)).containsExactly("a:latest");
            assertThat(a).as("still loading").isNotDone();
            assertThat(loadMillis(a.get(10, TimeUnit.SECONDS))).isGreaterThanOrEqualTo(3_000);
            assertThat(ps(sim)).containsExactly("a:latest");
        }
    }

    @Test
    void withoutLimitsEveryModelStaysLoadedAndLoadsRunInParallel() throws Exception {
        try (OllamaSimulator sim = OllamaSimulator.start(config(model("a", 1000), model("b", 1000),
                model("c", 1000)).loadTimeMillis(2_000).build())) {
            List<CompletableFuture<Map<String, Object>>> all = List.of(generateAsync(sim, "a", 1),
                    generateAsync(sim, "b", 1), generateAsync(sim, "c", 1));
            // Three parallel loads, not three serial ones: all three are listed (a load is listed from its start)
            // before any answer came, which serial loads of a one-token answer could not do. No clock is read.
            await().atMost(10, TimeUnit.SECONDS).until(() -> ps(sim).size() == 3);
            assertThat(all).noneMatch(CompletableFuture::isDone);
            for (CompletableFuture<Map<String, Object>> f : all) {
                assertThat(loadMillis(f.get(10, TimeUnit.SECONDS))).isGreaterThanOrEqualTo(2_000);
            }
            assertThat(ps(sim)).containsExactlyInAnyOrder("a:latest", "b:latest", "c:latest");
            assertThat(sim.counters().loads()).isEqualTo(3);
            assertThat(sim.counters().evictions()).isZero();
        }
    }
}

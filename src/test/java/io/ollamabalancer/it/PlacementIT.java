package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Placement through real sockets: three backends that each hold one model at a time, three models asked 50/30/20 by
 * a few clients for 27 s (up to 40 s, see below). The fleet must settle: from 18 s on, hardly any model loads, every
 * request succeeds, the plan changes at most once, and after that each model is served only where it stays resident;
 * the balancer has learned every backend's limit (from an eviction another client caused before the run).
 * With {@code -Dplacement.policy=least-connections} (models ignored) it fails, which is what it is for.
 *
 * <p>Why one change is allowed: the first plan is made before any speed is known (which backend gets the model asked
 * most is a guess), and once each backend serves one model its speed and its model's cannot be told apart, so the
 * plan is corrected only when queueing shows the guess wrong. On a loaded machine (a CI runner) that correction came
 * 18-24 s into the run in 2 of 6 runs (four busy loops on two cores). The run then goes on until 6 s of traffic
 * after the change (40 s at most) are there to judge. A fleet that thrashes changes its plan again and again and
 * loads models throughout.
 */
class PlacementIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] MODELS = {"llama3.2:1b", "qwen2.5:0.5b", "gemma3:1b"};
    /** Cumulative shares of the models above: 50 %, 30 %, 20 %. */
    private static final double[] CUMULATIVE = {0.5, 0.8, 1.0};
    private static final long RUN_MILLIS = 27_000;
    private static final long MAX_RUN_MILLIS = 40_000;
    private static final int CLIENTS = 4;
    /** How long after a plan change requests may still be served where their model was (two load times and more). */
    private static final long SETTLE_MILLIS = 2_000;

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private static List<SimModel> models() {
        return List.of(SimModel.completion(MODELS[0], 1_300_000_000L, "llama", "1.2B", "Q8_0", false),
                SimModel.completion(MODELS[1], 400_000_000L, "qwen2", "494M", "Q4_K_M", false),
                SimModel.completion(MODELS[2], 800_000_000L, "gemma3", "1B", "Q4_K_M", false));
    }

    /** One finished request: when it was sent (ms since the run began), its model, status and backend. */
    private record Done(long sentMillis, String model, int status, String backend) {
    }

    @Test
    void aSteadyMixSettlesOnAStablePlacement() throws Exception {
        String policy = System.getProperty("placement.policy", "eft");
        fleet = new TestFleet()
                .sim("fast", b -> b.models(models()).maxLoadedModels(1).slots(2).loadTimeMillis(400)
                        .decodeTokensPerSecond(600))
                .sim("mid", b -> b.models(models()).maxLoadedModels(1).slots(2).loadTimeMillis(400)
                        .decodeTokensPerSecond(300))
                .sim("slow", b -> b.models(models()).maxLoadedModels(1).slots(2).loadTimeMillis(400)
                        .decodeTokensPerSecond(300))
                .start(b -> b.policy(policy));

        // Another client used the backends before: each loaded llama3.2, then gemma3 evicted it. The balancer's
        // /api/ps polls (every 500 ms here) see that eviction and learn the limit; all three now hold the model
        // asked least, so the mix must move two models.
        for (String m : new String[] {MODELS[0], MODELS[2]}) {
            for (int i = 0; i < 3; i++) {
                assertThat(Http.post(fleet.sim(i).baseUrl() + "/api/generate", "{\"model\":\"" + m + "\"}")
                        .statusCode()).isEqualTo(200);
            }
            Thread.sleep(1_200);
        }

        ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
        long t0 = System.nanoTime();
        long windowStart = RUN_MILLIS * 2 / 3;
        // The run ends at 27 s, or later when the plan changes after 18 s: 6 s of settled traffic to judge.
        AtomicLong end = new AtomicLong(RUN_MILLIS);
        long[] loadsAtWindow = new long[1];
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            Random rnd = new Random(42 + c);
            Thread t = new Thread(() -> {
                try {
                    for (long now = ms(t0); now < end.get(); now = ms(t0)) {
                        String model = pick(rnd.nextDouble());
                        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate", "{\"model\":\"" + model
                                + "\",\"prompt\":\"q " + now + "\",\"stream\":false,\"options\":{\"num_predict\":"
                                + (10 + rnd.nextInt(20)) + "}}");
                        done.add(new Done(now, model, r.statusCode(),
                                r.headers().firstValue("x-balancer-backend").orElse("?")));
                        Thread.sleep(rnd.nextInt(20));
                    }
                } catch (Exception e) {
                    done.add(new Done(ms(t0), "?", -1, String.valueOf(e)));
                }
            }, "placement-client-" + c);
            t.start();
            clients.add(t);
        }
        Thread.sleep(windowStart);
        loadsAtWindow[0] = loads();
        // The plan as /balancer/status shows it, polled from 18 s on: when it changes and to what.
        List<Long> changes = new ArrayList<>();
        JsonNode last = null;
        while (ms(t0) < end.get()) {
            long at = ms(t0);
            JsonNode holds = JSON.readTree(Http.get(fleet.url() + "/balancer/status").body()).at("/placement/holds");
            if (last != null && !last.equals(holds)) {
                changes.add(at);
                end.set(Math.min(MAX_RUN_MILLIS, Math.max(end.get(), at + SETTLE_MILLIS + 6_000)));
            }
            last = holds;
            Thread.sleep(100);
        }
        for (Thread t : clients) {
            t.join(60_000);
        }
        long windowLoads = loads() - loadsAtWindow[0];

        List<Done> window = done.stream().filter(d -> d.sentMillis() >= windowStart).toList();
        // After a change, requests already queued or sent as it happens may still go where their model was.
        long settled = changes.isEmpty() ? windowStart : changes.get(changes.size() - 1) + SETTLE_MILLIS;
        List<Done> stable = window.stream().filter(d -> d.sentMillis() >= settled).toList();
        Map<String, Set<String>> servedBy = new TreeMap<>();
        for (Done d : stable) {
            servedBy.computeIfAbsent(d.model(), k -> new TreeSet<>()).add(d.backend());
        }
        Map<String, Set<String>> residentOn = new TreeMap<>();
        for (int i = 0; i < 3; i++) {
            String name = fleet.sim(i).config().name();
            for (JsonNode m : JSON.readTree(Http.get(fleet.sim(i).baseUrl() + "/api/ps").body()).get("models")) {
                residentOn.computeIfAbsent(m.get("name").asText(), k -> new TreeSet<>()).add(name);
            }
        }
        double per100 = 100.0 * windowLoads / Math.max(1, window.size());
        String figures = String.format(Locale.ROOT, "policy=%s requests=%d window=%d windowLoads=%d (%.2f per 100)"
                + " totalLoads=%d planChangesInWindow=%s stable=%d servedBy=%s residentOn=%s", policy, done.size(),
                window.size(), windowLoads, per100, loads(), changes, stable.size(), servedBy, residentOn);
        System.out.println("PlacementIT: " + figures);

        assertThat(done).as(figures).allMatch(d -> d.status() == 200);
        assertThat(window.size()).as(figures).isGreaterThan(100);
        assertThat(per100).as("model loads per 100 requests from 18 s on: " + figures).isLessThanOrEqualTo(2.0);
        assertThat(changes).as("plan changes from 18 s on (ms into the run): " + figures).hasSizeLessThan(2);
        assertThat(stable.size()).as("requests after the plan settled: " + figures).isGreaterThan(100);
        assertThat(servedBy.keySet()).as(figures).containsExactlyInAnyOrder(MODELS);
        for (Map.Entry<String, Set<String>> e : servedBy.entrySet()) {
            assertThat(residentOn.getOrDefault(e.getKey(), Set.of()))
                    .as("%s was served after the plan settled where it is resident at the end: %s", e.getKey(), figures)
                    .containsAll(e.getValue());
        }
        JsonNode status = JSON.readTree(Http.get(fleet.url() + "/balancer/status").body());
        for (JsonNode b : status.get("backends")) {
            assertThat(b.at("/memory/learnedMaxLoadedModels").isNumber())
                    .as("learned limit of %s: %s", b.get("name").asText(), b.get("memory")).isTrue();
            assertThat(b.at("/memory/learnedMaxLoadedModels").asInt()).as(b.get("name").asText()).isEqualTo(1);
        }
        // The plan's last trial, as a user reads it: candidates judged, and the plan kept unless one was better.
        JsonNode trial = status.at("/placement/trial");
        assertThat(trial.isObject()).as("placement.trial: %s", status.get("placement")).isTrue();
        assertThat(trial.get("candidates").asInt()).as("%s", trial).isPositive();
        assertThat(trial.get("bestMeanSeconds").asDouble()).as("%s", trial)
                .isLessThanOrEqualTo(trial.get("currentMeanSeconds").asDouble());
        assertThat(trial.get("best").size()).as("%s", trial).isEqualTo(3);
        // Trials simulate latency at all, and they only propose placements that give every model a backend. (No
        // check of how recent the last one is: with one model per backend no single move keeps every model placed,
        // so once the plan settles there may be no candidate to try.)
        assertThat(trial.get("currentMeanSeconds").asDouble()).as("%s", trial).isPositive();
        Set<String> placed = new TreeSet<>();
        trial.get("best").forEach(models -> models.forEach(m -> placed.add(m.asText())));
        assertThat(placed).as("%s", trial).containsExactlyInAnyOrder(MODELS);
    }

    private static String pick(double u) {
        for (int i = 0; i < MODELS.length; i++) {
            if (u < CUMULATIVE[i]) {
                return MODELS[i];
            }
        }
        return MODELS[MODELS.length - 1];
    }

    private static long ms(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    /** Model loads so far on all three simulators, from their {@code /sim/counters}. */
    private long loads() throws Exception {
        long sum = 0;
        for (int i = 0; i < 3; i++) {
            sum += JSON.readTree(Http.get(fleet.sim(i).baseUrl() + "/sim/counters").body()).get("loads").asLong();
        }
        return sum;
    }
}

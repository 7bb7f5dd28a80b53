package io.ollamabalancer.sim;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.ollamabalancer.sim.SimHttp.num;
import static io.ollamabalancer.sim.SimHttp.obj;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Connection handling: keep-alive, pipelining, Connection: close, and concurrency accounting. */
class SimConnectionTest {
    private static final String GEN = "{\"model\":\"llama3.2:1b\",\"prompt\":\"%s\",\"options\":{\"num_predict\":%d}}";

    private OllamaSimulator sim;

    private OllamaSimulator start(SimulatorConfig.Builder b) {
        sim = OllamaSimulator.start(b.name("conn").prefillTokensPerSecond(50_000).meanOutputTokens(5000)
                .maxOutputTokens(100_000).build());
        return sim;
    }

    @AfterEach
    void stop() {
        sim.close();
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
        start(SimulatorConfig.builder().decodeTokensPerSecond(2000));
        try (RawHttp http = new RawHttp(sim.port())) {
            RawHttp.Response a = http.send("POST", "/api/generate", String.format(GEN, "a", 3)).read();
            RawHttp.Response b = http.send("POST", "/api/generate", String.format(GEN, "b", 4)).read();
            RawHttp.Response c = http.send("GET", "/api/tags", null).read();
            assertThat(a.chunks()).hasSize(4);
            assertThat(b.chunks()).hasSize(5);
            assertThat(c.status()).isEqualTo(200);
        }
        assertThat(sim.counters().connectionsAccepted()).isEqualTo(1);
        assertThat(sim.counters().served()).isEqualTo(3);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        start(SimulatorConfig.builder().decodeTokensPerSecond(2000));
        try (RawHttp http = new RawHttp(sim.port())) {
            byte[] one = RawHttp.request("POST", "/api/generate", String.format(GEN, "first", 5));
            byte[] two = RawHttp.request("GET", "/api/version", null);
            byte[] both = new byte[one.length + two.length];
            System.arraycopy(one, 0, both, 0, one.length);
            System.arraycopy(two, 0, both, one.length, two.length);
            http.writeRaw(both);
            RawHttp.Response first = http.read();
            RawHttp.Response second = http.read();
            assertThat(first.chunks()).hasSize(6);
            assertThat(second.body()).isEqualTo("{\"version\":\"0.12.0\"}");
        }
    }

    @Test
    void connectionCloseIsHonoured() throws Exception {
        start(SimulatorConfig.builder().decodeTokensPerSecond(2000));
        try (RawHttp http = new RawHttp(sim.port())) {
            RawHttp.Response r = http.send("POST", "/api/generate", String.format(GEN, "c", 2), "Connection: close")
                    .read();
            assertThat(r.terminated()).isTrue();
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            assertThat(http.peerClosed()).isTrue();
        }
    }

    @Test
    void peakConcurrencyIsBoundedBySlots() throws Exception {
        start(SimulatorConfig.builder().decodeTokensPerSecond(400).slots(3));
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            calls.add(SimHttp.CLIENT.sendAsync(SimHttp.postRequest(sim, "/api/generate",
                    String.format(GEN, "p" + i, 20).replace("}}", "},\"stream\":false}")),
                    HttpResponse.BodyHandlers.ofString()));
        }
        long tokens = 0;
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.get();
            assertThat(r.statusCode()).isEqualTo(200);
            tokens += num(obj(r.body()).get("eval_count"));
        }
        assertThat(sim.counters().peakConcurrentGenerations()).isEqualTo(3);
        assertThat(sim.counters().served()).isEqualTo(6);
        assertThat(sim.counters().tokensGenerated()).isEqualTo(tokens).isEqualTo(120);
        assertThat(sim.counters().activeGenerations()).isZero();

        Map<String, Object> json = obj(SimHttp.get(sim, "/sim/counters").body());
        assertThat(json).containsEntry("name", "conn").containsEntry("peakConcurrentGenerations", 3)
                .containsEntry("served", 6).containsEntry("tokensGenerated", 120);
        SimHttp.post(sim, "/sim/reset", "");
        assertThat(sim.counters().served()).isZero();
        assertThat(sim.counters().peakConcurrentGenerations()).isZero();
    }

    @Test
    void concurrentStreamsShareTheDecoder() throws Exception {
        // With decodeSlowdown 1 two concurrent streams each run at about half the solo rate.
        start(SimulatorConfig.builder().decodeTokensPerSecond(400).slots(2).decodeSlowdown(1.0).jitter(0));
        double solo = rate(SimHttp.post(sim, "/api/generate", nonStream("solo", 40)));
        CompletableFuture<HttpResponse<String>> a = SimHttp.CLIENT.sendAsync(
                SimHttp.postRequest(sim, "/api/generate", nonStream("a", 40)), HttpResponse.BodyHandlers.ofString());
        CompletableFuture<HttpResponse<String>> b = SimHttp.CLIENT.sendAsync(
                SimHttp.postRequest(sim, "/api/generate", nonStream("b", 40)), HttpResponse.BodyHandlers.ofString());
        double shared = Math.min(rate(a.get()), rate(b.get()));
        assertThat(solo).isBetween(400 * 0.7, 400 * 1.05);
        assertThat(shared).isLessThan(solo * 0.8);
    }

    @Test
    void aClientThatStopsReadingPausesGenerationInsteadOfBufferingIt() throws Exception {
        // A long model name makes every chunk ~2 KB, so the socket buffers fill after a few thousand tokens.
        String model = "slow-" + "x".repeat(2000) + ":1b";
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("slow-reader").decodeTokensPerSecond(100_000)
                .prefillTokensPerSecond(50_000).meanOutputTokens(2_000_000).maxOutputTokens(2_000_000)
                .model(SimModel.completion(model, 1, "llama", "1B", "Q4_0", true)).build());
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", sim.port()), 2000);
            s.getOutputStream().write(RawHttp.request("POST", "/api/generate",
                    String.format(GEN, "slow", 1_000_000).replace("llama3.2:1b", model)));
            s.getOutputStream().flush();
            // Nothing is read: once the socket buffers and Netty's high-water mark are full the stream must pause.
            long[] last = {-1};
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
                long now = sim.counters().tokensGenerated();
                boolean stable = now > 0 && now == last[0];
                last[0] = now;
                return stable;
            });
            assertThat(last[0]).isLessThan(1_000_000L);
            assertThat(sim.counters().activeGenerations()).isEqualTo(1);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().cancelled() == 1);
        assertThat(sim.counters().activeGenerations()).isZero();
    }

    private static String nonStream(String prompt, int n) {
        return "{\"model\":\"llama3.2:1b\",\"prompt\":\"" + prompt + "\",\"stream\":false,\"options\":{\"num_predict\":"
                + n + "}}";
    }

    private static double rate(HttpResponse<String> r) {
        Map<String, Object> o = obj(r.body());
        return num(o.get("eval_count")) / (num(o.get("eval_duration")) / 1e9);
    }
}

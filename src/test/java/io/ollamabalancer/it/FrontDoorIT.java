package io.ollamabalancer.it;

import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.HttpWire;
import io.ollamabalancer.testing.NettyMemory;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import io.ollamabalancer.config.BalancerConfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The client-facing front door over real sockets, with the bytes an ordinary HTTP client would not send: pipelined
 * requests the balancer refuses itself, broken chunk sizes, heads and bodies sent too slowly, more connections than
 * allowed, bodies past the limit and past the memory budget, HTTP/1.0, forward-proxy requests.
 */
class FrontDoorIT {
    /** num_predict 20 at 50 tokens/s: about 400 ms, so pipelined requests arrive while it runs. */
    private static final String SLOW_GENERATE = "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false,"
            + "\"options\":{\"num_predict\":20}}";

    private TestFleet fleet;

    private TestFleet start(UnaryOperator<BalancerConfig.Builder> tweak) throws InterruptedException {
        return start(50_000, tweak);
    }

    private TestFleet start(double prefillTps, UnaryOperator<BalancerConfig.Builder> tweak)
            throws InterruptedException {
        fleet = new TestFleet().sim("a", b -> b.decodeTokensPerSecond(50).prefillTokensPerSecond(prefillTps))
                .start(tweak);
        return fleet;
    }

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void refusalsPipelinedBehindASlowGenerateAreAnsweredAfterItInOrder() throws Exception {
        start(b -> b);
        try (HttpWire c = new HttpWire(fleet.port())) {
            c.send(HttpWire.post("/api/generate", SLOW_GENERATE)
                    + "OPTIONS /api/chat HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost:5173\r\n"
                    + "Access-Control-Request-Method: POST\r\n\r\n"
                    + HttpWire.post("/api/chat", "{}", "Origin: https://evil.test")
                    + "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
                    + HttpWire.get("http://other/api/tags")
                    + HttpWire.get("/api/version"));
            HttpWire.Answer generate = c.read();
            assertThat(generate.status()).isEqualTo(200);
            assertThat(generate.body()).contains("\"done\":true");
            assertThat(c.read().status()).as("the preflight").isEqualTo(204);
            assertThat(c.read().status()).as("the foreign origin").isEqualTo(403);
            HttpWire.Answer connect = c.read();
            assertThat(connect.status()).isEqualTo(405);
            assertThat(connect.body()).isEqualTo("{\"error\":\"405 method not allowed\"}");
            HttpWire.Answer absolute = c.read();
            assertThat(absolute.status()).isEqualTo(400);
            assertThat(absolute.body()).startsWith("{\"error\":\"malformed request: the target must be a path");
            assertThat(c.read().body()).contains("\"version\"");
        }
    }

    @Test
    void aDeclared413PipelinedBehindAGenerateWaitsForItThenCloses() throws Exception {
        start(b -> b.maxBodyBytes(1024));
        try (HttpWire c = new HttpWire(fleet.port())) {
            c.send(HttpWire.post("/api/generate", SLOW_GENERATE)
                    + "POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(2000));
            HttpWire.Answer generate = c.read();
            assertThat(generate.status()).as("the earlier generate is answered, not cancelled").isEqualTo(200);
            assertThat(generate.body()).contains("\"done\":true");
            HttpWire.Answer refused = c.read();
            assertThat(refused.status()).isEqualTo(413);
            assertThat(refused.closes()).isTrue();
            assertThat(refused.body()).isEqualTo("{\"error\":\"request body too large: the limit is 1024 bytes\"}");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void aMalformedHeadPipelinedBehindAGenerateIsAnsweredAfterIt() throws Exception {
        start(b -> b);
        try (HttpWire c = new HttpWire(fleet.port())) {
            c.send(HttpWire.post("/api/generate", SLOW_GENERATE) + "GET /api/tags HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: nope\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            HttpWire.Answer bad = c.read();
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.closes()).isTrue();
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void anInvalidChunkSizeGets400AndTheConnectionCloses() throws Exception {
        start(b -> b);
        for (String size : List.of("zz", "-1", "ffffffffffffffff")) {
            try (HttpWire c = new HttpWire(fleet.port())) {
                c.send("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\n{\"mod\r\n" + size + "\r\nabc\r\n0\r\n\r\n" + HttpWire.get("/api/version"));
                HttpWire.Answer a = c.read();
                assertThat(a.status()).as(size).isEqualTo(400);
                assertThat(a.closes()).as(size).isTrue();
                assertThat(a.body()).as(size).startsWith("{\"error\":\"malformed request body: ");
                assertThat(c.closedByServer()).as(size).isTrue();
            }
        }
    }

    @Test
    void aHeadOrABodySentTooSlowlyGets408AndAClose() throws Exception {
        start(b -> b.headerTimeout(Duration.ofMillis(300)).bodyReadTimeout(Duration.ofMillis(300)));
        try (HttpWire c = new HttpWire(fleet.port())) {
            long t0 = System.nanoTime();
            c.send("GET /api/version HTTP/1.1\r\nHo");
            HttpWire.Answer a = c.read();
            assertThat(a.status()).isEqualTo(408);
            assertThat(a.body()).contains("--header-timeout");
            assertThat(a.closes()).isTrue();
            assertThat(c.closedByServer()).isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(250L, 5_000L);
        }
        try (HttpWire c = new HttpWire(fleet.port())) {
            c.send("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"mo");
            HttpWire.Answer a = c.read();
            assertThat(a.status()).isEqualTo(408);
            assertThat(a.body()).contains("--body-read-timeout");
            assertThat(c.closedByServer()).isTrue();
        }
        try (HttpWire c = new HttpWire(fleet.port())) {
            // A slow head pipelined behind a generate: the generate is answered, then the 408.
            c.send(HttpWire.post("/api/generate", SLOW_GENERATE) + "GET /api/version HTTP/1.1\r\nHo");
            HttpWire.Answer generate = c.read();
            assertThat(generate.status()).isEqualTo(200);
            assertThat(generate.body()).contains("\"done\":true");
            assertThat(c.read().status()).isEqualTo(408);
            assertThat(c.closedByServer()).isTrue();
        }
        try (HttpWire c = new HttpWire(fleet.port())) {
            // A connection that never starts a request is closed without an answer.
            assertThat(c.closedByServer()).isTrue();
        }
        try (HttpWire c = new HttpWire(fleet.port())) {
            // An idle keep-alive connection between requests is not a slow head: it is still served afterwards.
            c.send(HttpWire.get("/api/version"));
            assertThat(c.read().status()).isEqualTo(200);
            Thread.sleep(700); // longer than both deadlines, on purpose: nothing may fire while idle
            c.send(HttpWire.get("/api/version"));
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void connectionsAboveTheCapGetAPolite503AndAreCounted() throws Exception {
        start(b -> b.maxClientConnections(2));
        try (HttpWire one = new HttpWire(fleet.port()); HttpWire two = new HttpWire(fleet.port())) {
            one.send(HttpWire.get("/api/version"));
            two.send(HttpWire.get("/api/version"));
            assertThat(one.read().status()).isEqualTo(200);
            assertThat(two.read().status()).isEqualTo(200);
            try (HttpWire third = new HttpWire(fleet.port())) {
                third.send(HttpWire.get("/api/version"));
                HttpWire.Answer a = third.read();
                assertThat(a.status()).isEqualTo(503);
                assertThat(a.header("retry-after")).isEqualTo("1");
                assertThat(a.closes()).isTrue();
                assertThat(a.body()).startsWith("{\"error\":\"server busy");
                assertThat(third.closedByServer()).isTrue();
            }
            // The two admitted ones are unaffected.
            one.send(HttpWire.get("/api/version"));
            assertThat(one.read().status()).isEqualTo(200);
        }
        // Once they closed, there is room again; the refusal was counted.
        await().atMost(Duration.ofSeconds(5)).until(() -> metricsOrNull() != null);
        assertThat(metricsOrNull()).contains("ollama_balancer_client_connections_refused_total 1");
    }

    private String metricsOrNull() {
        try {
            HttpResponse<String> r = Http.get(fleet.url() + "/metrics");
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    @Test
    void anEndlessChunkedBodyIsRefusedAtTheLimitAndNotReadOn() throws Exception {
        long limit = 16L * 1024 * 1024;
        start(b -> b.maxBodyBytes(limit));
        AtomicLong written = new AtomicLong();
        NettyMemory memory = NettyMemory.watch();
        try (HttpWire c = new HttpWire(fleet.port())) {
            c.send("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n");
            OutputStream out = c.output();
            byte[] chunk = ("4000\r\n" + "x".repeat(0x4000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < 64 * 256; i++) { // up to 256 MiB
                        out.write(chunk);
                        written.addAndGet(chunk.length);
                    }
                } catch (IOException expected) {
                    // the balancer closed the connection
                }
            });
            HttpWire.Answer a = c.read();
            assertThat(a.status()).isEqualTo(413);
            assertThat(a.closes()).isTrue();
            writer.get(20, TimeUnit.SECONDS);
        }
        memory.close();
        System.out.printf("endless chunked body: %d bytes written, Netty memory peak growth %d bytes%n",
                written.get(), memory.peakGrowth());
        // The limit, what the sockets' buffers take, and at most the linger's 256 KiB: far from the 256 MiB offered.
        assertThat(written.get()).isLessThan(limit + 16L * 1024 * 1024);
        // One buffer of at most the limit (briefly two while it doubles), not a composite of every chunk.
        assertThat(memory.peakGrowth()).isLessThan(2 * limit + 8L * 1024 * 1024);
    }

    @Test
    void aFloodOfLargeBodiesOverTheBudgetGets503sAndTheRestAreServed() throws Exception {
        // Each body is 600 KB; the budget holds three of them at once, the backend runs 2 and queues the rest.
        // A fast prefill: the long prompts are there for their bytes, not their tokens.
        start(1e9, b -> b.maxBodyBytes(1024 * 1024).maxInflightBodyBytes(2 * 1024 * 1024));
        String body = "{\"model\":\"llama3.2:1b\",\"stream\":false,\"options\":{\"num_predict\":10},\"prompt\":\""
                + "word ".repeat(120_000) + "\"}";
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            all.add(Http.postAsync(fleet.url() + "/api/generate", body, "X-Test", "flood", Duration.ofSeconds(60)));
        }
        int ok = 0;
        int busy = 0;
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
            if (r.statusCode() == 200) {
                ok++;
            } else {
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.headers().firstValue("retry-after")).hasValue("1");
                assertThat(r.body()).contains("--max-inflight-body-bytes");
                busy++;
            }
        }
        assertThat(ok).as("some are served").isGreaterThan(0);
        assertThat(busy).as("some are refused").isGreaterThan(0);
        // A body's share goes back when its exchange ends, which is just after its answer's last bytes were flushed:
        // a client can read /metrics in between (seen once in CI, 600,079 bytes still held). Wait for the end, not
        // for a time: a share never given back fails after 10 s.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            String now = metricsOrNull();
            return now != null && now.contains("ollama_balancer_request_body_bytes_held 0\n");
        });
        String m = metricsOrNull();
        assertThat(m).contains("ollama_balancer_request_body_bytes_held 0")
                .contains("ollama_balancer_request_bodies_refused_total " + busy);
        assertThat(Http.get(fleet.url() + "/health").statusCode()).isEqualTo(200);
    }

    @Test
    void aStreamedAnswerToHttp10IsRawAndEndsWithTheConnection() throws Exception {
        start(b -> b);
        String json = "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":{\"num_predict\":5}}";
        try (HttpWire c = new HttpWire(fleet.port())) {
            c.send("POST /api/generate HTTP/1.0\r\nHost: localhost\r\nContent-Length: " + json.length() + "\r\n\r\n"
                    + json);
            HttpWire.Answer a = c.read();
            assertThat(a.status()).isEqualTo(200);
            assertThat(a.chunked()).isFalse();
            assertThat(a.header("transfer-encoding")).isNull();
            assertThat(a.closes()).isTrue();
            String[] lines = a.body().split("\n");
            assertThat(lines.length).isGreaterThan(1);
            assertThat(lines[lines.length - 1]).contains("\"done\":true");
        }
    }

    @Test
    void refusalsAreCountedAndTheAdminTokenIsChecked() throws Exception {
        start(b -> b.maxBodyBytes(1024).adminToken("s3cret"));
        try (HttpWire c = new HttpWire(fleet.port())) {
            c.send("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(413);
        }
        try (HttpWire c = new HttpWire(fleet.port())) {
            c.send(HttpWire.post("/api/generate", "{\"prompt\":\"no model\"}"));
            assertThat(c.read().status()).isEqualTo(400);
        }
        String m = metricsOrNull();
        assertThat(m).contains("ollama_balancer_requests_total{endpoint=\"generate\",model=\"\",backend=\"\","
                + "status=\"413\"} 1");
        assertThat(m).contains("ollama_balancer_requests_total{endpoint=\"generate\",model=\"\",backend=\"\","
                + "status=\"400\"} 1");
        String drain = "/balancer/backends/a/drain";
        assertThat(Http.post(fleet.url() + drain, "", "Authorization", "Bearer s3creX").statusCode()).isEqualTo(401);
        assertThat(Http.post(fleet.url() + drain, "", "Authorization", "Bearer s3cret!").statusCode()).isEqualTo(401);
        assertThat(Http.post(fleet.url() + drain, "", "Authorization", "Bearer s3cret").statusCode()).isEqualTo(200);
    }
}

package io.ollamabalancer.sim;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Error statuses and texts, exactly as Ollama sends them (§6 and §13 of the API notes). */
class SimErrorsTest {
    private static final String BUSY = "{\"error\":\"server busy, please try again.  maximum pending requests exceeded\"}";
    private static final String LONG = "{\"model\":\"llama3.2:1b\",\"prompt\":\"hold the slot\","
            + "\"options\":{\"num_predict\":100000}}";

    private OllamaSimulator sim;

    private OllamaSimulator start(SimulatorConfig.Builder b) {
        sim = OllamaSimulator.start(b.name("errors").decodeTokensPerSecond(200).prefillTokensPerSecond(10_000)
                .meanOutputTokens(5000).maxOutputTokens(200_000).build());
        return sim;
    }

    @AfterEach
    void stop() {
        if (sim != null) {
            sim.close();
        }
    }

    @Test
    void badRequestsGetOllamasTexts() throws Exception {
        start(SimulatorConfig.builder());
        assertError("/api/generate", "", 400, "{\"error\":\"missing request body\"}");
        assertError("/api/generate", "  \n", 400, "{\"error\":\"missing request body\"}");
        assertError("/api/generate", "{\"model\":x}", 400,
                "{\"error\":\"invalid character 'x' looking for beginning of value\"}");
        assertError("/api/chat", "{\"model\" \"x\"}", 400,
                "{\"error\":\"invalid character '\\\"' after object key\"}");
        assertError("/api/generate", "{\"model\":\"llama3.2:1b\"", 400, "{\"error\":\"unexpected EOF\"}");
        assertError("/api/generate", "{\"model\":\"llama3.2:1b\",\"stream\":\"yes\"}", 400,
                "{\"error\":\"json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool\"}");
        assertError("/api/generate", "[]", 400,
                "{\"error\":\"json: cannot unmarshal array into Go value of type api.GenerateRequest\"}");
        assertError("/api/generate", "{\"model\":\"llama3.2:1b\",\"keep_alive\":\"300\"}", 400,
                "{\"error\":\"time: missing unit in duration \\\"300\\\"\"}");
        assertError("/api/chat", "{\"messages\":[]}", 400, "{\"error\":\"model is required\"}");
        assertError("/api/generate", "{\"model\":\"all-minilm\",\"prompt\":\"x\"}", 400,
                "{\"error\":\"\\\"all-minilm\\\" does not support generate\"}");
        assertError("/api/embed", "{\"model\":\"all-minilm\",\"input\":[1]}", 400, "{\"error\":\"invalid input type\"}");
    }

    @Test
    void unknownModelsAndPaths() throws Exception {
        start(SimulatorConfig.builder());
        assertError("/api/generate", "{\"model\":\"llama9\",\"prompt\":\"x\"}", 404,
                "{\"error\":\"model 'llama9' not found\"}");
        assertError("/api/chat", "{\"model\":\"llama9\",\"messages\":[]}", 404,
                "{\"error\":\"model 'llama9' not found\"}");
        assertError("/api/generate", "{}", 404, "{\"error\":\"model '' not found\"}");
        assertError("/api/show", "{\"model\":\"llama9\"}", 404, "{\"error\":\"model 'llama9' not found\"}");
        assertError("/api/embed", "{\"model\":\"llama9\",\"input\":\"x\"}", 404,
                "{\"error\":\"model \\\"llama9\\\" not found, try pulling it first\"}");

        HttpResponse<String> v1 = SimHttp.post(sim, "/v1/chat/completions",
                "{\"model\":\"llama9\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(v1.statusCode()).isEqualTo(404);
        assertThat(v1.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(v1.body()).isEqualTo("{\"error\":{\"message\":\"model 'llama9' not found\","
                + "\"type\":\"not_found_error\",\"param\":null,\"code\":null}}\n");
        HttpResponse<String> v1Bad = SimHttp.post(sim, "/v1/chat/completions", "{\"model\":\"llama3.2:1b\",\"messages\":[]}");
        assertThat(v1Bad.statusCode()).isEqualTo(400);
        assertThat(v1Bad.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        assertThat(v1Bad.body()).isEqualTo("{\"error\":{\"message\":\"[] is too short - 'messages'\","
                + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
        assertThat(SimHttp.post(sim, "/v1/completions", "").body()).contains("\"message\":\"EOF\"");

        HttpResponse<String> page = SimHttp.get(sim, "/api/nothing");
        assertThat(page.statusCode()).isEqualTo(404);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/plain");
        assertThat(page.body()).isEqualTo("404 page not found");
        HttpResponse<String> method = SimHttp.get(sim, "/api/generate");
        assertThat(method.statusCode()).isEqualTo(405);
        assertThat(method.body()).isEqualTo("405 method not allowed");
        try (RawHttp http = new RawHttp(sim.port())) {
            RawHttp.Response r = http.send("GET", "/api/tags/", null).read();
            assertThat(r.status()).isEqualTo(301);
            assertThat(r.header("location")).isEqualTo("/api/tags");
            r = http.send("POST", "/api/generate/", "{}").read();
            assertThat(r.status()).isEqualTo(307);
        }
        assertThat(sim.counters().notFound404()).isEqualTo(7);
    }

    @Test
    void fullQueueGets503BeforeAnyByteAndFreedSlotServesAgain() throws Exception {
        start(SimulatorConfig.builder().slots(1).maxQueue(0));
        try (RawHttp holder = new RawHttp(sim.port())) {
            holder.send("POST", "/api/generate", LONG).readHead();
            assertThat(holder.nextChunk()).contains("\"done\":false");

            assertError("/api/generate", "{\"model\":\"llama3.2:1b\",\"prompt\":\"x\"}", 503, BUSY);
            HttpResponse<String> v1 = SimHttp.post(sim, "/v1/chat/completions",
                    "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertThat(v1.statusCode()).isEqualTo(503);
            assertThat(v1.body()).contains("\"type\":\"api_error\"").contains("maximum pending requests exceeded");
            assertThat(sim.counters().rejected503()).isEqualTo(2);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().activeGenerations() == 0);
        HttpResponse<String> ok = SimHttp.post(sim, "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}");
        assertThat(ok.statusCode()).isEqualTo(200);
    }

    @Test
    void queueOfOneWaitsThenTheNextIsRejected() throws Exception {
        start(SimulatorConfig.builder().slots(1).maxQueue(1));
        try (RawHttp holder = new RawHttp(sim.port()); RawHttp waiter = new RawHttp(sim.port())) {
            holder.send("POST", "/api/generate", LONG).readHead();
            waiter.send("POST", "/api/generate", "{\"model\":\"llama3.2:1b\",\"prompt\":\"w\","
                    + "\"stream\":false,\"options\":{\"num_predict\":3}}");
            await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().waiting() == 1);

            assertError("/api/chat", "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                    503, BUSY);

            holder.close();
            RawHttp.Response waited = waiter.read();
            assertThat(waited.status()).isEqualTo(200);
            assertThat(SimHttp.obj(waited.body()).get("eval_count")).isEqualTo(3);
        }
        assertThat(sim.counters().cancelled()).isEqualTo(1);
        assertThat(sim.counters().peakConcurrentGenerations()).isEqualTo(1);
    }

    @Test
    void hostCheckRejectsForeignHostsWithAnEmpty403() throws Exception {
        start(SimulatorConfig.builder().checkHost(true));
        try (RawHttp http = new RawHttp(sim.port())) {
            RawHttp.Response foreign = http.send("GET", "/api/version", null, "Host: evil.example:11434").read();
            assertThat(foreign.status()).isEqualTo(403);
            assertThat(foreign.body()).isEmpty();
            for (String host : new String[] {"localhost:11434", "127.0.0.1", "[::1]:11434", "gpu1.internal",
                    "10.1.2.3:11434", "box.local"}) {
                assertThat(http.send("GET", "/api/version", null, "Host: " + host).read().status())
                        .as(host).isEqualTo(200);
            }
        }
    }

    private void assertError(String path, String body, int status, String expected) throws Exception {
        HttpResponse<String> res = SimHttp.post(sim, path, body);
        assertThat(res.statusCode()).as(path + " " + body).isEqualTo(status);
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        assertThat(res.body()).as(path + " " + body).isEqualTo(expected);
    }
}

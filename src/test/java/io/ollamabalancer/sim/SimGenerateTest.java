package io.ollamabalancer.sim;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.ollamabalancer.sim.SimHttp.list;
import static io.ollamabalancer.sim.SimHttp.num;
import static io.ollamabalancer.sim.SimHttp.obj;
import static org.assertj.core.api.Assertions.assertThat;

/** Native /api/generate and /api/chat: wire format, timing fields, special requests, determinism. */
class SimGenerateTest {
    private static final double DECODE = 1000;
    private static final double PREFILL = 2000;
    private static final long LOAD_MILLIS = 150;
    private static final String CREATED_AT = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z";

    /** Long natural answers (mean 5000 tokens), so num_predict always decides the length. */
    private static OllamaSimulator sim;
    /** Short natural answers (mean 12, at most 60 tokens). */
    private static OllamaSimulator shortSim;

    @BeforeAll
    static void start() {
        SimulatorConfig cfg = SimulatorConfig.builder().name("gen")
                .decodeTokensPerSecond(DECODE).prefillTokensPerSecond(PREFILL).slots(4)
                .loadTimeMillis(LOAD_MILLIS).meanOutputTokens(5000).maxOutputTokens(100_000).build();
        sim = OllamaSimulator.start(cfg);
        shortSim = OllamaSimulator.start(cfg.toBuilder().name("short").meanOutputTokens(12).maxOutputTokens(60).build());
    }

    @AfterAll
    static void stop() {
        sim.close();
        shortSim.close();
    }

    @Test
    void generateStreamsOneObjectPerChunkEndingWithTimings() throws Exception {
        String prompt = "x".repeat(400); // 100 prompt tokens -> 50 ms of prefill at 2000 tok/s
        RawHttp.Response r;
        try (RawHttp http = new RawHttp(sim.port())) {
            r = http.send("POST", "/api/generate",
                    "{\"model\":\"llama3.2:1b\",\"prompt\":\"" + prompt + "\",\"options\":{\"num_predict\":40}}")
                    .read();
        }
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/x-ndjson");
        assertThat(r.head().chunked()).isTrue();
        assertThat(r.header("date")).isNotBlank();
        assertThat(r.terminated()).isTrue();

        List<Map<String, Object>> objects = new ArrayList<>();
        for (String chunk : r.chunks()) {
            assertThat(chunk).endsWith("\n");
            assertThat(chunk.indexOf('\n')).isEqualTo(chunk.length() - 1);
            objects.add(obj(chunk));
        }
        List<Map<String, Object>> tokens = objects.subList(0, objects.size() - 1);
        Map<String, Object> last = objects.get(objects.size() - 1);
        for (Map<String, Object> t : tokens) {
            assertThat(t.keySet()).containsExactly("model", "created_at", "response", "done");
            assertThat(t.get("model")).isEqualTo("llama3.2:1b");
            assertThat((String) t.get("created_at")).matches(CREATED_AT);
            assertThat((String) t.get("response")).isNotEmpty();
            assertThat(t.get("done")).isEqualTo(false);
        }
        assertThat(last.keySet()).containsExactly("model", "created_at", "response", "done", "done_reason", "context",
                "total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count",
                "eval_duration");
        assertThat(last.get("response")).isEqualTo("");
        assertThat(last.get("done")).isEqualTo(true);
        assertThat(last.get("done_reason")).isEqualTo("length");
        assertThat(num(last.get("eval_count"))).isEqualTo(tokens.size()).isEqualTo(40);
        assertThat(num(last.get("prompt_eval_count"))).isEqualTo(100);
        assertThat(list(last.get("context"))).hasSize(140);

        long load = num(last.get("load_duration"));
        long prefill = num(last.get("prompt_eval_duration"));
        long eval = num(last.get("eval_duration"));
        long total = num(last.get("total_duration"));
        assertThat(load).as("warm load").isBetween(1_000_000L, 100_000_000L);
        assertThat(prefill).as("100 tokens at 2000 tok/s").isBetween(49_000_000L, 500_000_000L);
        double rate = 40 / (eval / 1e9);
        assertThat(rate).as("decode rate").isBetween(DECODE * 0.3, DECODE * 1.15);
        assertThat(total).isGreaterThanOrEqualTo(load + prefill + eval);
    }

    @Test
    void chatStreamsMessagesWithoutContext() throws Exception {
        RawHttp.Response r;
        try (RawHttp http = new RawHttp(sim.port())) {
            r = http.send("POST", "/api/chat", "{\"model\":\"LLAMA3.2:1B\",\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"Hi!\"}],\"options\":{\"num_predict\":5}}").read();
        }
        assertThat(r.header("content-type")).isEqualTo("application/x-ndjson");
        assertThat(r.chunks()).hasSize(6);
        Map<String, Object> first = obj(r.chunks().get(0));
        assertThat(first.keySet()).containsExactly("model", "created_at", "message", "done");
        assertThat(first.get("model")).as("echoed verbatim").isEqualTo("LLAMA3.2:1B");
        assertThat(obj(first.get("message")).keySet()).containsExactly("role", "content");
        assertThat(obj(first.get("message")).get("role")).isEqualTo("assistant");
        Map<String, Object> last = obj(r.chunks().get(5));
        assertThat(last).doesNotContainKey("context");
        assertThat(obj(last.get("message")).get("content")).isEqualTo("");
        assertThat(last.keySet()).containsExactly("model", "created_at", "message", "done", "done_reason",
                "total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count",
                "eval_duration");
        assertThat(num(last.get("prompt_eval_count"))).as("1 content token + 15 template").isEqualTo(16);
    }

    @Test
    void nonStreamingReturnsOneJsonObjectWithTheWholeText() throws Exception {
        HttpResponse<String> res = SimHttp.post(sim, "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"Why is the sky blue?\",\"stream\":false,"
                        + "\"options\":{\"num_predict\":8}}");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        assertThat(res.headers().firstValue("content-length")).isPresent();
        assertThat(res.body()).doesNotEndWith("\n");
        Map<String, Object> o = obj(res.body());
        assertThat(o.get("done")).isEqualTo(true);
        assertThat(num(o.get("eval_count"))).isEqualTo(8);
        assertThat(((String) o.get("response")).split(" ")).hasSizeBetween(2, 9);
    }

    @Test
    void sameRequestGetsSameAnswerAndLengthStopsNaturally() throws Exception {
        String body = "{\"model\":\"llama3.2:1b\",\"prompt\":\"Tell me a story\",\"stream\":false}";
        Map<String, Object> a = obj(SimHttp.post(shortSim, "/api/generate", body).body());
        Map<String, Object> b = obj(SimHttp.post(shortSim, "/api/generate", body).body());
        assertThat(a.get("done_reason")).isEqualTo("stop");
        assertThat(a.get("eval_count")).isEqualTo(b.get("eval_count"));
        assertThat(a.get("response")).isEqualTo(b.get("response"));
        assertThat(num(a.get("eval_count"))).isBetween(1L, 60L);

        // A different seed changes the answer for at least one of a few prompts.
        try (OllamaSimulator other = OllamaSimulator.start(shortSim.config().toBuilder().name("seed7").seed(7).build())) {
            boolean differs = false;
            for (int i = 0; i < 5 && !differs; i++) {
                String req = "{\"model\":\"llama3.2:1b\",\"prompt\":\"p" + i + "\",\"stream\":false}";
                differs = !obj(SimHttp.post(shortSim, "/api/generate", req).body()).get("response")
                        .equals(obj(SimHttp.post(other, "/api/generate", req).body()).get("response"));
            }
            assertThat(differs).isTrue();
        }
    }

    @Test
    void emptyPromptLoadsAndKeepAliveZeroUnloads() throws Exception {
        // qwen2.5:0.5b starts cold: loading it takes LOAD_MILLIS.
        assertThat(SimHttp.get(sim, "/api/ps").body()).doesNotContain("qwen2.5:0.5b");
        long t0 = System.nanoTime();
        HttpResponse<String> load = SimHttp.post(sim, "/api/generate", "{\"model\":\"qwen2.5:0.5b\"}");
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(LOAD_MILLIS * 1_000_000L);
        assertThat(load.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        Map<String, Object> o = obj(load.body());
        assertThat(o.keySet()).containsExactly("model", "created_at", "response", "done", "done_reason");
        assertThat(o.get("done_reason")).isEqualTo("load");
        assertThat(SimHttp.get(sim, "/api/ps").body()).contains("\"name\":\"qwen2.5:0.5b\"");

        HttpResponse<String> unload = SimHttp.post(sim, "/api/chat",
                "{\"model\":\"qwen2.5:0.5b\",\"messages\":[],\"keep_alive\":0}");
        Map<String, Object> u = obj(unload.body());
        assertThat(u.get("done_reason")).isEqualTo("unload");
        assertThat(obj(u.get("message")).get("role")).isEqualTo("assistant");
        assertThat(SimHttp.get(sim, "/api/ps").body()).doesNotContain("qwen2.5:0.5b");

        // Cold again: the next generation pays the load in load_duration.
        Map<String, Object> cold = obj(SimHttp.post(sim, "/api/generate",
                "{\"model\":\"qwen2.5:0.5b\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":2}}")
                .body());
        assertThat(num(cold.get("load_duration"))).isGreaterThanOrEqualTo(LOAD_MILLIS * 1_000_000L);
    }

    @Test
    void goEscapingIsUsedForHtmlCharacters() throws Exception {
        HttpResponse<String> res = SimHttp.post(sim, "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":1}}");
        assertThat(res.body()).doesNotContain("<").doesNotContain(">");
        // The model name is echoed through the same encoder.
        HttpResponse<String> nf = SimHttp.post(sim, "/api/generate", "{\"model\":\"a<b>&c\",\"prompt\":\"x\"}");
        assertThat(nf.body()).isEqualTo("{\"error\":\"model 'a\\u003cb\\u003e\\u0026c' not found\"}");
    }
}

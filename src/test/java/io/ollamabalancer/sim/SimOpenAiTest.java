package io.ollamabalancer.sim;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static io.ollamabalancer.sim.SimHttp.list;
import static io.ollamabalancer.sim.SimHttp.num;
import static io.ollamabalancer.sim.SimHttp.obj;
import static org.assertj.core.api.Assertions.assertThat;

/** The OpenAI-compatible /v1 surface: SSE framing (v0.32.6+ form), non-streaming objects, models, embeddings. */
class SimOpenAiTest {
    private static OllamaSimulator sim;

    @BeforeAll
    static void start() {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("openai").slots(2)
                .decodeTokensPerSecond(2000).prefillTokensPerSecond(50_000)
                .meanOutputTokens(5000).maxOutputTokens(100_000).build());
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    /** The JSON payloads of the {@code data:} events of an SSE body, {@code [DONE]} kept as a string. */
    private static List<String> events(String body) {
        assertThat(body).endsWith("\n\n");
        List<String> out = new ArrayList<>();
        for (String e : body.split("\n\n")) {
            assertThat(e).startsWith("data: ");
            out.add(e.substring("data: ".length()));
        }
        return out;
    }

    @Test
    void chatStreamIsSseWithRoleFirstFinishChunkUsageAndDone() throws Exception {
        RawHttp.Response r;
        try (RawHttp http = new RawHttp(sim.port())) {
            r = http.send("POST", "/v1/chat/completions", "{\"model\":\"llama3.2:1b\",\"stream\":true,"
                    + "\"stream_options\":{\"include_usage\":true},\"max_tokens\":4,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello there\"}]}").read();
        }
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("text/event-stream");
        assertThat(r.header("cache-control")).isNull();
        assertThat(r.chunks()).hasSize(5);
        List<String> ev = events(r.body());
        assertThat(ev).hasSize(7);
        assertThat(ev.get(6)).isEqualTo("[DONE]");

        Map<String, Object> first = obj(ev.get(0));
        assertThat(first.keySet()).containsExactly("id", "object", "created", "model", "system_fingerprint", "choices");
        assertThat((String) first.get("id")).matches("chatcmpl-\\d{1,3}");
        assertThat(first.get("object")).isEqualTo("chat.completion.chunk");
        assertThat(first.get("system_fingerprint")).isEqualTo("fp_ollama");
        Map<String, Object> choice = obj(list(first.get("choices")).get(0));
        assertThat(choice.keySet()).containsExactly("index", "delta", "finish_reason");
        assertThat(obj(choice.get("delta")).keySet()).containsExactly("role", "content");
        assertThat(choice.get("finish_reason")).isNull();
        for (int i = 1; i < 4; i++) {
            Map<String, Object> c = obj(list(obj(ev.get(i)).get("choices")).get(0));
            assertThat(obj(c.get("delta")).keySet()).containsExactly("content");
        }
        Map<String, Object> finish = obj(list(obj(ev.get(4)).get("choices")).get(0));
        assertThat(obj(finish.get("delta"))).isEmpty();
        assertThat(finish.get("finish_reason")).isEqualTo("length");
        Map<String, Object> usage = obj(ev.get(5));
        assertThat(list(usage.get("choices"))).isEmpty();
        assertThat(obj(usage.get("usage"))).containsEntry("prompt_tokens", 18).containsEntry("completion_tokens", 4)
                .containsEntry("total_tokens", 22);
        for (int i = 0; i < 6; i++) {
            assertThat(obj(ev.get(i)).get("created")).isEqualTo(first.get("created"));
            assertThat(obj(ev.get(i)).get("id")).isEqualTo(first.get("id"));
        }
    }

    @Test
    void chatWithoutStreamIsOneCompletionObject() throws Exception {
        HttpResponse<String> res = SimHttp.post(sim, "/v1/chat/completions", "{\"model\":\"llama3.2:1b\","
                + "\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}]}");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(res.body()).endsWith("}\n");
        Map<String, Object> o = obj(res.body());
        assertThat(o.keySet()).containsExactly("id", "object", "created", "model", "system_fingerprint", "choices",
                "usage");
        assertThat(o.get("object")).isEqualTo("chat.completion");
        Map<String, Object> choice = obj(list(o.get("choices")).get(0));
        assertThat(obj(choice.get("message")).get("role")).isEqualTo("assistant");
        assertThat((String) obj(choice.get("message")).get("content")).isNotBlank();
        assertThat(choice.get("finish_reason")).isEqualTo("length");
        assertThat(obj(o.get("usage")).get("completion_tokens")).isEqualTo(3);
    }

    @Test
    void completionsStreamCarriesZeroUsageAndAUsageChunk() throws Exception {
        RawHttp.Response r;
        try (RawHttp http = new RawHttp(sim.port())) {
            r = http.send("POST", "/v1/completions", "{\"model\":\"llama3.2:1b\",\"prompt\":\"Once\",\"stream\":true,"
                    + "\"max_tokens\":2,\"stream_options\":{\"include_usage\":true}}").read();
        }
        List<String> ev = events(r.body());
        assertThat(ev).hasSize(5);
        Map<String, Object> first = obj(ev.get(0));
        assertThat(first.keySet()).containsExactly("id", "object", "created", "choices", "model", "system_fingerprint",
                "usage");
        assertThat((String) first.get("id")).startsWith("cmpl-");
        assertThat(first.get("object")).isEqualTo("text_completion");
        assertThat(obj(first.get("usage"))).containsEntry("total_tokens", 0);
        assertThat(obj(list(obj(ev.get(2)).get("choices")).get(0))).containsEntry("text", "")
                .containsEntry("finish_reason", "length");
        assertThat(obj(obj(ev.get(3)).get("usage"))).containsEntry("completion_tokens", 2);
        assertThat(ev.get(4)).isEqualTo("[DONE]");

        HttpResponse<String> whole = SimHttp.post(sim, "/v1/completions",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"Once\",\"max_tokens\":2}");
        Map<String, Object> o = obj(whole.body());
        assertThat(o.keySet()).containsExactly("id", "object", "created", "model", "system_fingerprint", "choices",
                "usage");
        assertThat(obj(list(o.get("choices")).get(0)).keySet()).containsExactly("text", "index", "finish_reason");
    }

    @Test
    void modelsListAndRetrieve() throws Exception {
        HttpResponse<String> all = SimHttp.get(sim, "/v1/models");
        assertThat(all.headers().firstValue("content-type")).hasValue("application/json");
        Map<String, Object> o = obj(all.body());
        assertThat(o.get("object")).isEqualTo("list");
        List<Object> data = list(o.get("data"));
        assertThat(data).hasSize(3);
        assertThat(obj(data.get(0))).containsEntry("id", "llama3.2:1b").containsEntry("object", "model")
                .containsEntry("owned_by", "library");
        assertThat(obj(data.get(2))).containsEntry("id", "all-minilm:latest");

        Map<String, Object> one = obj(SimHttp.get(sim, "/v1/models/Llama3.2:1B").body());
        assertThat(one).containsEntry("id", "Llama3.2:1B");
        assertThat(num(one.get("created"))).isEqualTo(num(obj(data.get(0)).get("created")));
        assertThat(SimHttp.get(sim, "/v1/models/nope").statusCode()).isEqualTo(404);

        try (OllamaSimulator empty = OllamaSimulator.start(SimulatorConfig.builder().name("empty")
                .models(List.of()).build())) {
            assertThat(SimHttp.get(empty, "/v1/models").body()).isEqualTo("{\"object\":\"list\",\"data\":null}\n");
            assertThat(SimHttp.get(empty, "/api/tags").body()).isEqualTo("{\"models\":[]}");
        }
    }

    @Test
    void embeddingsAsFloatsAndBase64() throws Exception {
        Map<String, Object> o = obj(SimHttp.post(sim, "/v1/embeddings",
                "{\"model\":\"all-minilm\",\"input\":[\"a\",\"bb\"]}").body());
        assertThat(o.keySet()).containsExactly("object", "data", "model", "usage");
        List<Object> data = list(o.get("data"));
        assertThat(data).hasSize(2);
        Map<String, Object> first = obj(data.get(0));
        assertThat(first.keySet()).containsExactly("object", "embedding", "index");
        List<Object> vector = list(first.get("embedding"));
        assertThat(vector).hasSize(384);
        assertThat(obj(data.get(1)).get("index")).isEqualTo(1);

        Map<String, Object> b64 = obj(SimHttp.post(sim, "/v1/embeddings",
                "{\"model\":\"all-minilm\",\"input\":\"a\",\"encoding_format\":\"base64\"}").body());
        byte[] raw = Base64.getDecoder().decode((String) obj(list(b64.get("data")).get(0)).get("embedding"));
        ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(raw).hasSize(384 * 4);
        for (Object v : vector) {
            assertThat(buf.getFloat()).isEqualTo(((Number) v).floatValue());
        }
        assertThat(SimHttp.post(sim, "/v1/embeddings", "{\"model\":\"all-minilm\",\"input\":[]}").statusCode())
                .isEqualTo(400);
    }
}

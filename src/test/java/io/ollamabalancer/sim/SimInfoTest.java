package io.ollamabalancer.sim;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static io.ollamabalancer.sim.SimHttp.list;
import static io.ollamabalancer.sim.SimHttp.num;
import static io.ollamabalancer.sim.SimHttp.obj;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The descriptive endpoints, pull and embeddings. */
class SimInfoTest {
    private static final String LOCAL_TIME = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?(Z|[+-]\\d\\d:\\d\\d)";

    private static OllamaSimulator sim;

    @BeforeAll
    static void start() {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("info").version("0.11.4").gpu(true)
                .loadTimeMillis(20).prefillTokensPerSecond(50_000)
                .model(SimModel.completion("llama3.2:1b", 1_321_098_329L, "llama", "1.2B", "Q8_0", true))
                .model(SimModel.completion("Qwen2.5:0.5B", 397_821_319L, "qwen2", "494.03M", "Q4_K_M", false))
                .model(SimModel.embedding("nomic-embed-text", 274_302_450L, "nomic-bert", "137M", "F16", 768, true))
                .build());
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    @Test
    void rootAndVersion() throws Exception {
        HttpResponse<String> root = SimHttp.get(sim, "/");
        assertThat(root.body()).isEqualTo("Ollama is running");
        assertThat(root.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
        try (RawHttp http = new RawHttp(sim.port())) {
            RawHttp.Response head = http.send("HEAD", "/", null).read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-length")).isEqualTo("17");
            // The connection is still in sync after a body-less HEAD answer.
            assertThat(http.send("GET", "/api/version", null).read().body()).isEqualTo("{\"version\":\"0.11.4\"}");
        }
    }

    @Test
    void tagsListEveryInstalledModel() throws Exception {
        Map<String, Object> tags = obj(SimHttp.get(sim, "/api/tags").body());
        List<Object> models = list(tags.get("models"));
        assertThat(models).hasSize(3);
        Map<String, Object> first = obj(models.get(0));
        assertThat(first.keySet()).containsExactly("name", "model", "modified_at", "size", "digest", "details");
        assertThat(first).containsEntry("name", "llama3.2:1b").containsEntry("model", "llama3.2:1b");
        assertThat(num(first.get("size"))).isEqualTo(1_321_098_329L);
        assertThat((String) first.get("digest")).matches("[0-9a-f]{64}");
        assertThat((String) first.get("modified_at")).matches(LOCAL_TIME);
        assertThat(obj(first.get("details")).keySet()).containsExactly("parent_model", "format", "family",
                "families", "parameter_size", "quantization_level");
        assertThat(obj(models.get(2))).containsEntry("name", "nomic-embed-text:latest");
    }

    @Test
    void psReflectsLoadedModels() throws Exception {
        Map<String, Object> ps = obj(SimHttp.get(sim, "/api/ps").body());
        List<Object> loaded = list(ps.get("models"));
        assertThat(loaded).extracting(m -> obj(m).get("name"))
                .containsExactlyInAnyOrder("llama3.2:1b", "nomic-embed-text:latest");
        Map<String, Object> m = obj(loaded.get(0));
        assertThat(m.keySet()).containsExactly("name", "model", "size", "digest", "details", "expires_at",
                "size_vram", "context_length");
        assertThat(m.get("size_vram")).isEqualTo(m.get("size"));
        assertThat(m.get("context_length")).isEqualTo(4096);
        assertThat((String) m.get("expires_at")).matches(LOCAL_TIME);

        // Loading the cold model with keep_alive -1 makes it loaded "forever": first in the list.
        SimHttp.post(sim, "/api/generate", "{\"model\":\"qwen2.5:0.5b\",\"keep_alive\":-1}");
        List<Object> after = list(obj(SimHttp.get(sim, "/api/ps").body()).get("models"));
        assertThat(obj(after.get(0)).get("name")).isEqualTo("Qwen2.5:0.5B");
        assertThat((String) obj(after.get(0)).get("expires_at")).startsWith("23");
        SimHttp.post(sim, "/api/generate", "{\"model\":\"qwen2.5:0.5b\",\"keep_alive\":\"0s\"}");
        assertThat(SimHttp.get(sim, "/api/ps").body()).doesNotContain("Qwen");
    }

    @Test
    void showDescribesCapabilitiesAndArchitecture() throws Exception {
        Map<String, Object> llm = obj(SimHttp.post(sim, "/api/show", "{\"model\":\"llama3.2:1b\"}").body());
        assertThat(list(llm.get("capabilities"))).containsExactly("completion");
        Map<String, Object> info = obj(llm.get("model_info"));
        assertThat(info).containsEntry("general.architecture", "llama");
        assertThat(num(info.get("llama.context_length"))).isPositive();
        assertThat(List.copyOf(info.keySet())).isSorted();
        assertThat((String) llm.get("modified_at")).matches(LOCAL_TIME);
        assertThat(List.copyOf(llm.keySet()).indexOf("details"))
                .isLessThan(List.copyOf(llm.keySet()).indexOf("model_info"));

        Map<String, Object> emb = obj(SimHttp.post(sim, "/api/show", "{\"name\":\"nomic-embed-text\"}").body());
        assertThat(list(emb.get("capabilities"))).containsExactly("embedding");
        assertThat(obj(emb.get("model_info"))).containsEntry("nomic-bert.embedding_length", 768);
        assertThat(SimHttp.post(sim, "/api/show", "{}").body()).isEqualTo("{\"error\":\"model is required\"}");
    }

    @Test
    void pullStreamsProgressEndingInSuccess() throws Exception {
        RawHttp.Response r;
        try (RawHttp http = new RawHttp(sim.port())) {
            r = http.send("POST", "/api/pull", "{\"name\":\"llama3.2:1b\"}").read();
        }
        assertThat(r.header("content-type")).isEqualTo("application/x-ndjson");
        assertThat(obj(r.chunks().get(0))).containsEntry("status", "pulling manifest");
        Map<String, Object> layer = obj(r.chunks().get(2));
        assertThat(layer.keySet()).containsExactly("status", "digest", "total", "completed");
        assertThat((String) layer.get("digest")).startsWith("sha256:");
        assertThat(r.chunks().get(r.chunks().size() - 1)).isEqualTo("{\"status\":\"success\"}\n");

        assertThat(SimHttp.post(sim, "/api/pull", "{\"model\":\"llama3.2:1b\",\"stream\":false}").body())
                .isEqualTo("{\"status\":\"success\"}");
        HttpResponse<String> missing = SimHttp.post(sim, "/api/pull", "{\"model\":\"nope\",\"stream\":false}");
        assertThat(missing.statusCode()).isEqualTo(500);
        assertThat(missing.body()).isEqualTo("{\"error\":\"pull model manifest: file does not exist\"}");
    }

    @Test
    void embedReturnsDeterministicUnitVectors() throws Exception {
        HttpResponse<String> res = SimHttp.post(sim, "/api/embed",
                "{\"model\":\"nomic-embed-text\",\"input\":[\"Why is the sky blue?\",\"Why is grass green?\"]}");
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        Map<String, Object> o = obj(res.body());
        assertThat(o.keySet()).containsExactly("model", "embeddings", "total_duration", "load_duration",
                "prompt_eval_count");
        assertThat(num(o.get("prompt_eval_count"))).isEqualTo(10);
        List<Object> vectors = list(o.get("embeddings"));
        assertThat(vectors).hasSize(2);
        for (Object v : vectors) {
            assertThat(list(v)).hasSize(768);
            assertThat(norm(list(v))).isCloseTo(1.0, within(1e-5));
        }
        assertThat(vectors.get(0)).isNotEqualTo(vectors.get(1));

        Map<String, Object> single = obj(SimHttp.post(sim, "/api/embed",
                "{\"model\":\"nomic-embed-text\",\"input\":\"Why is the sky blue?\"}").body());
        assertThat(list(single.get("embeddings")).get(0)).isEqualTo(vectors.get(0));

        Map<String, Object> shorter = obj(SimHttp.post(sim, "/api/embed",
                "{\"model\":\"nomic-embed-text\",\"input\":\"x\",\"dimensions\":64}").body());
        assertThat(norm(list(list(shorter.get("embeddings")).get(0)))).isCloseTo(1.0, within(1e-5));
        assertThat(list(list(shorter.get("embeddings")).get(0))).hasSize(64);

        assertThat(SimHttp.post(sim, "/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":[]}").body())
                .isEqualTo("{\"model\":\"nomic-embed-text\",\"embeddings\":[]}");
    }

    @Test
    void legacyEmbeddingsAreNotNormalised() throws Exception {
        Map<String, Object> o = obj(SimHttp.post(sim, "/api/embeddings",
                "{\"model\":\"nomic-embed-text\",\"prompt\":\"hello\"}").body());
        assertThat(o.keySet()).containsExactly("embedding");
        assertThat(list(o.get("embedding"))).hasSize(768);
        assertThat(norm(list(o.get("embedding")))).isGreaterThan(2.0);
        assertThat(SimHttp.post(sim, "/api/embeddings", "{\"model\":\"nomic-embed-text\"}").body())
                .isEqualTo("{\"embedding\":[]}");
    }

    private static double norm(List<Object> v) {
        double s = 0;
        for (Object o : v) {
            double d = ((Number) o).doubleValue();
            s += d * d;
        }
        return Math.sqrt(s);
    }
}

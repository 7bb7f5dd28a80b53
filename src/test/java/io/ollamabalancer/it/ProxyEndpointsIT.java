package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Every endpoint of the Ollama and OpenAI surface, through the balancer, against two real simulators. */
class ProxyEndpointsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestFleet fleet;

    @BeforeAll
    static void start() throws Exception {
        fleet = new TestFleet()
                .sim("alpha", b -> b.models(List.of(
                        SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true),
                        SimModel.embedding("all-minilm", 45_000_000L, "bert", "23M", "F16", 8, true))))
                .sim("beta", b -> b.version("0.11.4").models(List.of(
                        SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true),
                        SimModel.completion("qwen2.5:0.5b", 400_000_000L, "qwen2", "494M", "Q4_K_M", true))))
                .start();
    }

    @AfterAll
    static void stop() {
        fleet.close();
    }

    private static String url(String path) {
        return fleet.url() + path;
    }

    private static List<JsonNode> ndjson(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : body.split("\n")) {
            assertThat(line).as("no blank lines in NDJSON").isNotBlank();
            out.add(JSON.readTree(line));
        }
        return out;
    }

    @Test
    void generateStreamsNdjsonEndingWithTimings() throws Exception {
        HttpResponse<String> r = Http.post(url("/api/generate"),
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"Why is the sky blue?\",\"options\":{\"num_predict\":5}}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/x-ndjson");
        assertThat(r.headers().firstValue("x-balancer-backend")).isPresent();
        List<JsonNode> lines = ndjson(r.body());
        JsonNode last = lines.get(lines.size() - 1);
        assertThat(last.get("done").asBoolean()).isTrue();
        assertThat(last.get("eval_count").asInt()).as("one chunk per token").isEqualTo(lines.size() - 1)
                .isBetween(1, 5);
        assertThat(last.get("done_reason").asText()).isIn("length", "stop");
        assertThat(last.get("prompt_eval_duration").asLong()).isPositive();
        assertThat(last.get("model").asText()).isEqualTo("llama3.2:1b");
    }

    @Test
    void nonStreamingGenerateAndChatReturnOneObject() throws Exception {
        HttpResponse<String> g = Http.post(url("/api/generate"),
                "{\"model\":\"LLAMA3.2:1b\",\"prompt\":\"hi\",\"stream\":false}");
        assertThat(g.statusCode()).isEqualTo(200);
        assertThat(g.headers().firstValue("content-type").orElse("")).startsWith("application/json");
        JsonNode one = JSON.readTree(g.body());
        assertThat(one.get("done").asBoolean()).isTrue();
        assertThat(one.get("model").asText()).as("the model is echoed as sent").isEqualTo("LLAMA3.2:1b");

        HttpResponse<String> c = Http.post(url("/api/chat"),
                "{\"model\":\"qwen2.5:0.5b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":false}");
        assertThat(c.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(c.body()).at("/message/role").asText()).isEqualTo("assistant");
        assertThat(c.headers().firstValue("x-balancer-backend")).hasValue("beta");
    }

    @Test
    void chatStreamsByDefault() throws Exception {
        HttpResponse<String> r = Http.post(url("/api/chat"),
                "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        List<JsonNode> lines = ndjson(r.body());
        assertThat(lines.size()).isGreaterThan(1);
        assertThat(lines.get(lines.size() - 1).get("done").asBoolean()).isTrue();
    }

    @Test
    void embeddingsOnBothApis() throws Exception {
        HttpResponse<String> e = Http.post(url("/api/embed"), "{\"model\":\"all-minilm\",\"input\":[\"a\",\"b\"]}");
        assertThat(e.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(e.body()).get("embeddings")).hasSize(2);
        assertThat(e.headers().firstValue("x-balancer-backend")).hasValue("alpha");

        HttpResponse<String> legacy = Http.post(url("/api/embeddings"), "{\"model\":\"all-minilm\",\"prompt\":\"a\"}");
        assertThat(legacy.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(legacy.body()).get("embedding").size()).isEqualTo(8);

        HttpResponse<String> v1 = Http.post(url("/v1/embeddings"), "{\"model\":\"all-minilm\",\"input\":\"a\"}");
        assertThat(v1.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(v1.body()).at("/data/0/object").asText()).isEqualTo("embedding");
    }

    @Test
    void openAiChatStreamsServerSentEventsAndNonStreamIsOneObject() throws Exception {
        HttpResponse<String> s = Http.post(url("/v1/chat/completions"),
                "{\"model\":\"llama3.2:1b\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(s.statusCode()).isEqualTo(200);
        assertThat(s.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        assertThat(s.body()).startsWith("data: {").endsWith("data: [DONE]\n\n");

        HttpResponse<String> n = Http.post(url("/v1/chat/completions"),
                "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(n.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(n.body()).get("object").asText()).isEqualTo("chat.completion");

        HttpResponse<String> c = Http.post(url("/v1/completions"), "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}");
        assertThat(c.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(c.body()).get("object").asText()).isEqualTo("text_completion");
    }

    @Test
    void modelInfoRoutes() throws Exception {
        HttpResponse<String> show = Http.post(url("/api/show"), "{\"name\":\"qwen2.5:0.5b\"}");
        assertThat(show.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(show.body()).has("model_info")).isTrue();

        HttpResponse<String> m = Http.get(url("/v1/models/qwen2.5:0.5b"));
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(m.body()).get("id").asText()).isEqualTo("qwen2.5:0.5b");

        HttpResponse<String> missing = Http.get(url("/v1/models/nope:1b"));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(missing.body()).at("/error/type").asText()).isEqualTo("not_found_error");
    }

    @Test
    void fleetWideEndpointsMergeTheBackends() throws Exception {
        JsonNode tags = JSON.readTree(Http.get(url("/api/tags")).body());
        Set<String> names = new HashSet<>();
        tags.get("models").forEach(m -> names.add(m.get("name").asText()));
        assertThat(names).containsExactlyInAnyOrder("llama3.2:1b", "all-minilm:latest", "qwen2.5:0.5b");

        JsonNode models = JSON.readTree(Http.get(url("/v1/models")).body());
        assertThat(models.get("object").asText()).isEqualTo("list");
        assertThat(models.get("data")).hasSize(3);

        assertThat(JSON.readTree(Http.get(url("/api/version")).body()).get("version").asText())
                .as("the lowest version in the fleet").isEqualTo("0.11.4");
        assertThat(Http.get(url("/api/ps")).statusCode()).isEqualTo(200);

        HttpResponse<String> root = Http.get(url("/"));
        assertThat(root.body()).isEqualTo("Ollama is running");
        HttpResponse<String> head = Http.send(HttpRequest.newBuilder(URI.create(url("/")))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }

    @Test
    void legacyEndpointReturnsOneGenerateObject() throws Exception {
        HttpResponse<String> r = Http.post(url("/ollama/generate"), "{\"prompt\":\"hello\",\"model\":\"llama3.2:1b\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode one = JSON.readTree(r.body());
        assertThat(one.get("done").asBoolean()).isTrue();
        assertThat(one.get("response").asText()).isNotEmpty();
    }

    @Test
    void errorsKeepOllamaShapes() throws Exception {
        HttpResponse<String> unknown = Http.post(url("/api/generate"), "{\"model\":\"llama9\",\"prompt\":\"x\"}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").asText()).isEqualTo("model 'llama9' not found");

        HttpResponse<String> bad = Http.post(url("/api/chat"), "{\"model\":");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).has("error")).isTrue();

        HttpResponse<String> v1bad = Http.post(url("/v1/chat/completions"), "{\"model\":\"nope\",\"messages\":[]}");
        assertThat(v1bad.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(v1bad.body()).at("/error/message").asText()).contains("not found");

        HttpResponse<String> method = Http.get(url("/api/generate"));
        assertThat(method.statusCode()).isEqualTo(405);
    }

    @Test
    void preloadAndUnloadReachEveryBackendWithTheModel() throws Exception {
        HttpResponse<String> load = Http.post(url("/api/generate"), "{\"model\":\"llama3.2:1b\"}");
        assertThat(load.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(load.body()).get("done_reason").asText()).isEqualTo("load");
        HttpResponse<String> unload = Http.post(url("/api/chat"), "{\"model\":\"llama3.2:1b\",\"messages\":[],"
                + "\"keep_alive\":0}");
        assertThat(unload.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(unload.body()).get("done_reason").asText()).isEqualTo("unload");
        for (int i = 0; i < 2; i++) {
            String ps = Http.get(fleet.sim(i).baseUrl() + "/api/ps").body();
            assertThat(ps).as("unloaded on backend %d", i).doesNotContain("llama3.2:1b");
        }
        // Put it back for the other tests.
        assertThat(Http.post(url("/api/generate"), "{\"model\":\"llama3.2:1b\"}").statusCode()).isEqualTo(200);
    }

    @Test
    void passthroughGoesToTheNamedBackend() throws Exception {
        HttpResponse<String> pull = Http.post(url("/api/pull"), "{\"model\":\"llama3.2:1b\",\"stream\":false}",
                "X-Ollama-Backend", "beta");
        assertThat(pull.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(pull.body()).get("status").asText()).isEqualTo("success");
        assertThat(pull.headers().firstValue("x-balancer-backend")).hasValue("beta");

        HttpResponse<String> unknown = Http.post(url("/api/pull"), "{\"model\":\"x\"}", "X-Ollama-Backend", "zeta");
        assertThat(unknown.statusCode()).isEqualTo(400);
    }
}

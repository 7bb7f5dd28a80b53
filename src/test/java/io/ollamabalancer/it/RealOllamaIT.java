package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.output.Response;
import io.github.ollama4j.Ollama;
import io.github.ollama4j.models.embed.OllamaEmbedRequest;
import io.github.ollama4j.models.embed.OllamaEmbedResult;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.generate.OllamaGenerateStreamObserver;
import io.github.ollama4j.models.response.OllamaResult;
import io.github.ollama4j.models.request.ThinkMode;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.server.BalancerServer;
import io.ollamabalancer.testing.CollectedChat;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.OllamaContainers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.ollama.OllamaContainer;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The balancer in front of two real Ollama servers (Docker, through Testcontainers), used by the real Java clients:
 * what the simulator can only imitate. Real model files and Ollama's own handling of them (tags defaulting to
 * {@code latest}, digests, its pull progress stream, {@code /api/ps} with real {@code expires_at} and sizes), real
 * token streaming and embeddings, and Ollama really stopping a generation when the balancer closes the connection of
 * a client that left.
 *
 * <p>Tagged {@code docker}: only {@code mvn -B verify -Preal-ollama} runs it, and it is skipped (with the reason) where
 * no Docker engine answers. The first run pulls the models into a committed image ({@link OllamaContainers}); later
 * runs start in seconds. Each server runs one generation at a time ({@code OLLAMA_NUM_PARALLEL=1}), the balancer
 * is told one slot each.
 */
@Tag("docker")
@Testcontainers(disabledWithoutDocker = true)
class RealOllamaIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = OllamaContainers.CHAT_MODEL;
    private static final String EMBED = OllamaContainers.EMBED_MODEL;
    /** Backend name → its container, in the order given to the balancer. */
    private static final Map<String, OllamaContainer> OLLAMAS = new LinkedHashMap<>();
    private static BalancerServer balancer;

    @BeforeAll
    static void start() throws Exception {
        OllamaContainers.requireDocker();
        List<BackendConfig> backends = new ArrayList<>();
        for (String name : List.of("ollama-a", "ollama-b")) {
            OllamaContainer c = OllamaContainers.start();
            OLLAMAS.put(name, c);
            backends.add(new BackendConfig(name, URI.create(c.getEndpoint()), 1, null, true));
        }
        balancer = BalancerServer.start(BalancerConfig.builder().bind("127.0.0.1").port(0).backendsFile(null)
                .modelRefreshInterval(Duration.ofSeconds(1)).build(), backends);
        await("both backends' models listed by the balancer").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> modelNames(url() + "/api/tags").containsAll(List.of(latest(CHAT), latest(EMBED))));
    }

    @AfterAll
    static void stop() {
        if (balancer != null) {
            balancer.close();
        }
        OLLAMAS.values().forEach(OllamaContainer::stop);
        OLLAMAS.clear();
    }

    private static String url() {
        return "http://127.0.0.1:" + balancer.port();
    }

    /** Ollama's name for a model given without a tag. */
    private static String latest(String model) {
        return model.contains(":") ? model : model + ":latest";
    }

    private static List<String> modelNames(String tagsOrPsUrl) throws Exception {
        List<String> names = new ArrayList<>();
        for (JsonNode m : JSON.readTree(Http.get(tagsOrPsUrl).body()).path("models")) {
            names.add(m.get("name").asText());
        }
        return names;
    }

    @Test
    void ollama4jGeneratesStreamsAndEmbedsThroughTheBalancer() throws Exception {
        Ollama ollama = new Ollama(url());
        ollama.setRequestTimeoutSeconds(120);
        assertThat(ollama.ping()).isTrue();

        OllamaResult whole = ollama.generate(OllamaGenerateRequest.builder().withModel(CHAT)
                .withPrompt("Name one colour.").withThink(ThinkMode.DISABLED).withStreaming(false).build(), null);
        assertThat(whole.isDone()).isTrue();
        assertThat(whole.getResponse()).isNotBlank();

        List<String> tokens = new CopyOnWriteArrayList<>();
        OllamaResult streamed = ollama.generate(OllamaGenerateRequest.builder().withModel(CHAT)
                .withPrompt("Count from one to ten in words.").withThink(ThinkMode.DISABLED).withStreaming(true)
                .build(), new OllamaGenerateStreamObserver(null, tokens::add));
        assertThat(tokens).as("tokens arrived one by one").hasSizeGreaterThan(3);
        assertThat(String.join("", tokens)).isEqualTo(streamed.getResponse());

        OllamaEmbedResult embedded = ollama.embed(new OllamaEmbedRequest(EMBED, List.of("a cat", "a dog")));
        assertThat(embedded.getEmbeddings()).hasSize(2);
        assertThat(embedded.getEmbeddings().get(0)).as("all-minilm's dimension").hasSize(384);
    }

    @Test
    void langChain4jChatStreamsAndEmbedsThroughTheBalancer() throws Exception {
        OllamaStreamingChatModel chat = OllamaStreamingChatModel.builder().baseUrl(url()).modelName(CHAT)
                .timeout(Duration.ofMinutes(2)).build();
        CollectedChat handler = new CollectedChat();
        chat.chat("Say hello in three languages.", handler);
        List<String> parts = handler.parts();
        ChatResponse complete = handler.done().get(2, TimeUnit.MINUTES);
        assertThat(parts).hasSizeGreaterThan(3);
        assertThat(complete.aiMessage().text()).isEqualTo(String.join("", parts));

        Response<Embedding> e = OllamaEmbeddingModel.builder().baseUrl(url()).modelName(EMBED).build()
                .embed("text to embed");
        assertThat(e.content().dimension()).isEqualTo(384);
    }

    @Test
    void psThroughTheBalancerIsTheUnionOfTheBackendsLoadedModels() throws Exception {
        // Two generations at once: one slot each, so both backends load the model.
        List<CompletableFuture<HttpResponse<String>>> two = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            two.add(Http.postAsync(url() + "/api/generate", "{\"model\":\"" + CHAT + "\",\"prompt\":\"Say hi " + i
                    + "\",\"stream\":false,\"options\":{\"num_predict\":8}}", "X-Request-Id", "ps-" + i,
                    Duration.ofMinutes(2)));
        }
        List<String> servedBy = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> r : two) {
            assertThat(r.get().statusCode()).isEqualTo(200);
            servedBy.add(r.get().headers().firstValue("X-Balancer-Backend").orElseThrow());
        }
        List<String> union = new ArrayList<>();
        for (String name : servedBy) {
            List<String> loaded = modelNames(OLLAMAS.get(name).getEndpoint() + "/api/ps");
            assertThat(loaded).as("%s has the model loaded after serving it", name).contains(latest(CHAT));
            union.addAll(loaded);
        }
        JsonNode ps = JSON.readTree(Http.get(url() + "/api/ps").body()).path("models");
        assertThat(ps.size()).isPositive();
        for (JsonNode m : ps) {
            assertThat(union).contains(m.get("name").asText());
            assertThat(m.get("size_vram").isNumber()).isTrue();
            assertThat(m.get("expires_at").asText()).isNotBlank();
        }
    }

    @Test
    void aPullThroughTheBalancerPutsTheModelOnBothBackends() throws Exception {
        // Remove it everywhere through the balancer (delete goes to every holder), then pull it back through it.
        HttpResponse<String> deleted = Http.send(HttpRequest.newBuilder(URI.create(url() + "/api/delete"))
                .timeout(Duration.ofMinutes(1)).method("DELETE",
                        HttpRequest.BodyPublishers.ofString("{\"model\":\"" + EMBED + "\"}")).build());
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        for (Map.Entry<String, OllamaContainer> o : OLLAMAS.entrySet()) {
            assertThat(modelNames(o.getValue().getEndpoint() + "/api/tags")).as("%s after the delete", o.getKey())
                    .doesNotContain(latest(EMBED));
        }

        HttpResponse<String> pulled = Http.send(HttpRequest.newBuilder(URI.create(url() + "/api/pull"))
                .timeout(Duration.ofMinutes(10))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + EMBED + "\",\"stream\":false}")).build());
        assertThat(pulled.statusCode()).as(pulled.body()).isEqualTo(200);
        assertThat(JSON.readTree(pulled.body()).get("status").asText()).isEqualTo("success");
        for (Map.Entry<String, OllamaContainer> o : OLLAMAS.entrySet()) {
            assertThat(modelNames(o.getValue().getEndpoint() + "/api/tags")).as("%s after the pull", o.getKey())
                    .contains(latest(EMBED));
        }
        await("the balancer lists it again").atMost(Duration.ofSeconds(10))
                .until(() -> modelNames(url() + "/api/tags").contains(latest(EMBED)));
        HttpResponse<String> embed = Http.post(url() + "/api/embed", "{\"model\":\"" + EMBED + "\",\"input\":\"x\"}");
        assertThat(embed.statusCode()).isEqualTo(200);
    }

    @Test
    void aClientThatLeavesMidStreamStopsOllamasGeneration() throws Exception {
        String longAnswer = "{\"model\":\"" + CHAT + "\",\"prompt\":\"Write the numbers from 1 to 5000, separated by "
                + "spaces.\",\"stream\":true,\"options\":{\"num_predict\":4000,\"temperature\":0}}";
        HttpResponse<InputStream> stream = Http.sendStreaming(HttpRequest.newBuilder(URI.create(url()
                        + "/api/generate")).timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofString(longAnswer)).build());
        assertThat(stream.statusCode()).isEqualTo(200);
        String backend = stream.headers().firstValue("X-Balancer-Backend").orElseThrow();
        int lines = 0;
        boolean ended = false;
        long start = System.nanoTime();
        BufferedReader reader = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
        while (System.nanoTime() - start < Duration.ofSeconds(2).toNanos()) {
            String line = reader.readLine();
            if (line == null || line.contains("\"done\":true")) {
                ended = true;
                break;
            }
            lines++;
        }
        double tokensPerSecond = lines / ((System.nanoTime() - start) / 1e9);
        reader.close(); // the client leaves; the balancer must close its connection to Ollama, which then stops
        Assumptions.assumeFalse(ended, "the model ended its answer within 2 s: nothing left to cancel");
        double leftSeconds = (4000 - lines) / Math.max(tokensPerSecond, 1e-3);
        Assumptions.assumeTrue(leftSeconds > 20, "the model generates too fast here (" + Math.round(tokensPerSecond)
                + " tokens/s) to tell a stopped generation from a finished one");

        // The server runs one generation at a time: a request sent straight to it starts only once the abandoned one
        // stopped. Were it still generating, that would be ~leftSeconds away.
        long asked = System.nanoTime();
        HttpResponse<String> next = Http.send(HttpRequest.newBuilder(URI.create(OLLAMAS.get(backend).getEndpoint()
                        + "/api/generate")).timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + CHAT + "\",\"prompt\":\"Hi\","
                        + "\"stream\":false,\"options\":{\"num_predict\":4}}")).build());
        double waited = (System.nanoTime() - asked) / 1e9;
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(waited).as("seconds until %s served the next request (the abandoned one had ~%.0f s left)",
                backend, leftSeconds).isLessThan(leftSeconds / 3);
        await("nothing left outstanding on the balancer").atMost(Duration.ofSeconds(5))
                .until(() -> JSON.readTree(Http.get(url() + "/balancer/status").body()).path("backends")
                        .findValues("outstanding").stream().allMatch(n -> n.asInt() == 0));
    }
}

package io.ollamabalancer.it;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaLanguageModel;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModels;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.output.Response;
import io.github.ollama4j.Ollama;
import io.github.ollama4j.models.chat.OllamaChatMessageRole;
import io.github.ollama4j.models.chat.OllamaChatRequest;
import io.github.ollama4j.models.chat.OllamaChatResult;
import io.github.ollama4j.models.embed.OllamaEmbedRequest;
import io.github.ollama4j.models.embed.OllamaEmbedResult;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.generate.OllamaGenerateStreamObserver;
import io.github.ollama4j.models.response.Model;
import io.github.ollama4j.models.response.OllamaResult;
import io.github.ollama4j.models.request.ThinkMode;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.CollectedChat;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The real Java clients, unchanged, pointed at the balancer instead of one Ollama. */
class ClientLibrariesIT {
    private static final String MODEL = "llama3.2:1b";
    private static final String EMBEDDER = "all-minilm";
    private static TestFleet fleet;

    @BeforeAll
    static void start() throws Exception {
        List<SimModel> models = List.of(
                SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true),
                SimModel.embedding(EMBEDDER, 45_000_000L, "bert", "23M", "F16", 16, true));
        fleet = new TestFleet().sim("a", b -> b.models(models)).sim("b", b -> b.models(models)).start();
    }

    @AfterAll
    static void stop() {
        fleet.close();
    }

    @Test
    void ollama4jWorksUnchanged() throws Exception {
        Ollama ollama = new Ollama(fleet.url());
        assertThat(ollama.ping()).isTrue();
        assertThat(ollama.listModels()).extracting(Model::getName).contains(MODEL);

        OllamaResult generated = ollama.generate(OllamaGenerateRequest.builder().withModel(MODEL)
                .withPrompt("Why is the sky blue?").withThink(ThinkMode.DISABLED).withStreaming(false).build(), null);
        assertThat(generated.isDone()).isTrue();
        assertThat(generated.getResponse()).isNotBlank();

        List<String> tokens = new CopyOnWriteArrayList<>();
        OllamaResult streamed = ollama.generate(OllamaGenerateRequest.builder().withModel(MODEL)
                .withPrompt("Stream please").withThink(ThinkMode.DISABLED).withStreaming(true).build(),
                new OllamaGenerateStreamObserver(null, tokens::add));
        assertThat(tokens).isNotEmpty();
        assertThat(String.join("", tokens)).isEqualTo(streamed.getResponse());

        OllamaChatResult chat = ollama.chat(OllamaChatRequest.builder().withModel(MODEL)
                .withMessage(OllamaChatMessageRole.USER, "Hello there").build(), null);
        assertThat(chat.getResponseModel().getMessage().getResponse()).isNotBlank();

        OllamaEmbedResult embedded = ollama.embed(new OllamaEmbedRequest(EMBEDDER, List.of("one", "two")));
        assertThat(embedded.getEmbeddings()).hasSize(2);
        assertThat(embedded.getEmbeddings().get(0)).hasSize(16);
    }

    @Test
    void langChain4jWorksUnchanged() throws Exception {
        String base = fleet.url();
        OllamaChatModel chat = OllamaChatModel.builder().baseUrl(base).modelName(MODEL).build();
        assertThat(chat.chat("Say hello")).isNotBlank();

        OllamaStreamingChatModel streaming = OllamaStreamingChatModel.builder().baseUrl(base).modelName(MODEL)
                .build();
        CollectedChat handler = new CollectedChat();
        streaming.chat("Stream a reply", handler);
        List<String> parts = handler.parts();
        ChatResponse complete = handler.done().get(30, TimeUnit.SECONDS);
        assertThat(parts).isNotEmpty();
        assertThat(complete.aiMessage().text()).isEqualTo(String.join("", parts));
        assertThat(complete.tokenUsage().outputTokenCount()).isEqualTo(parts.size());

        Response<String> generated = OllamaLanguageModel.builder().baseUrl(base).modelName(MODEL).build()
                .generate("Complete this");
        assertThat(generated.content()).isNotBlank();

        Response<Embedding> embedding = OllamaEmbeddingModel.builder().baseUrl(base).modelName(EMBEDDER).build()
                .embed("text to embed");
        assertThat(embedding.content().dimension()).isEqualTo(16);

        Response<List<OllamaModel>> models = OllamaModels.builder().baseUrl(base).build().availableModels();
        assertThat(models.content()).extracting(OllamaModel::getName).contains(MODEL);
    }
}

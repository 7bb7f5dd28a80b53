package io.ollamabalancer.sim;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModels;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.ollama.RunningOllamaModel;
import io.ollamabalancer.testing.CollectedChat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A real Ollama client library (langchain4j-ollama) talks to the simulator without noticing a difference. */
class SimClientCompatibilityTest {
    private static OllamaSimulator sim;

    @BeforeAll
    static void start() {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("compat").decodeTokensPerSecond(2000)
                .prefillTokensPerSecond(50_000).meanOutputTokens(5000).maxOutputTokens(100_000).build());
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    @Test
    void chatAndStreamingChat() throws Exception {
        OllamaChatModel chat = OllamaChatModel.builder().baseUrl(sim.baseUrl()).modelName("llama3.2:1b")
                .numPredict(6).timeout(Duration.ofSeconds(10)).build();
        ChatResponse answer = chat.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
                .messages(dev.langchain4j.data.message.UserMessage.from("Why is the sky blue?")).build());
        assertThat(answer.aiMessage().text()).isNotBlank();
        assertThat(answer.tokenUsage().outputTokenCount()).isEqualTo(6);

        OllamaStreamingChatModel streaming = OllamaStreamingChatModel.builder().baseUrl(sim.baseUrl())
                .modelName("llama3.2:1b").numPredict(5).timeout(Duration.ofSeconds(10)).build();
        CollectedChat handler = new CollectedChat();
        streaming.chat("Hello", handler);
        List<String> partials = handler.parts();
        ChatResponse complete = handler.done().get(10, TimeUnit.SECONDS);
        assertThat(partials).hasSize(5);
        assertThat(complete.aiMessage().text()).isEqualTo(String.join("", partials));
        assertThat(complete.tokenUsage().outputTokenCount()).isEqualTo(5);
    }

    @Test
    void embeddingsAndModelListings() {
        OllamaEmbeddingModel embedder = OllamaEmbeddingModel.builder().baseUrl(sim.baseUrl())
                .modelName("all-minilm").build();
        Embedding e = embedder.embed("hello").content();
        assertThat(e.dimension()).isEqualTo(384);

        OllamaModels models = OllamaModels.builder().baseUrl(sim.baseUrl()).build();
        List<OllamaModel> available = models.availableModels().content();
        assertThat(available).extracting(OllamaModel::getName)
                .containsExactly("llama3.2:1b", "qwen2.5:0.5b", "all-minilm:latest");
        List<RunningOllamaModel> running = models.runningModels().content();
        assertThat(running).extracting(RunningOllamaModel::getName).contains("llama3.2:1b", "all-minilm:latest");
        assertThat(running).allSatisfy(r -> assertThat(r.getExpiresAt()).isNotNull());
    }
}

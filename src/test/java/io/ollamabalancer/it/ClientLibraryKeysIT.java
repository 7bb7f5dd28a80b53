package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import io.github.ollama4j.Ollama;
import io.github.ollama4j.exceptions.OllamaException;
import io.github.ollama4j.models.chat.OllamaChatMessageRole;
import io.github.ollama4j.models.chat.OllamaChatRequest;
import io.github.ollama4j.models.chat.OllamaChatResult;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.generate.OllamaGenerateStreamObserver;
import io.github.ollama4j.models.response.Model;
import io.github.ollama4j.models.response.OllamaResult;
import io.github.ollama4j.models.request.ThinkMode;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.CollectedChat;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The real Java clients with API keys on, passing the key the way each documents (ollama4j's bearer option,
 * LangChain4j's custom headers): a valid key is served, streaming and not; a missing or unknown key fails with the
 * library's error carrying the 401; a key over its requests per minute fails with the library's 429 error.
 */
class ClientLibraryKeysIT {
    private static final String MODEL = "llama3.2:1b";
    private static final String TEAM = "sk-team-clients";
    /** One request a minute each, so the second within a minute is refused; one key per library keeps them apart. */
    private static final String OLLAMA4J_SLOW = "sk-ollama4j-slow";
    private static final String LANGCHAIN_SLOW = "sk-langchain4j-slow";
    private static final String UNAUTHORIZED =
            "unauthorized: a valid API key is required (Authorization: Bearer <key>)";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestFleet fleet;
    private static Path keys;

    @BeforeAll
    static void start() throws Exception {
        keys = Files.createTempFile("client-keys", ".json");
        Files.writeString(keys, "{\"keys\": [{\"name\": \"team\", \"key\": \"" + TEAM + "\"},"
                + "{\"name\": \"ollama4j-slow\", \"key\": \"" + OLLAMA4J_SLOW + "\", \"requestsPerMinute\": 1},"
                + "{\"name\": \"langchain4j-slow\", \"key\": \"" + LANGCHAIN_SLOW + "\", \"requestsPerMinute\": 1}]}");
        List<SimModel> models = List.of(SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
        fleet = new TestFleet().sim("a", b -> b.models(models)).start(c -> c.apiKeysFile(keys));
    }

    @AfterAll
    static void stop() throws Exception {
        fleet.close();
        Files.deleteIfExists(keys);
    }

    private static Ollama ollama4j(String key) {
        Ollama ollama = new Ollama(fleet.url());
        if (key != null) {
            ollama.setBearerAuth(key);
        }
        return ollama;
    }

    private static OllamaGenerateRequest generate(boolean stream) {
        return OllamaGenerateRequest.builder().withModel(MODEL).withPrompt("Why is the sky blue?")
                .withThink(ThinkMode.DISABLED).withStreaming(stream).build();
    }

    private static OllamaChatRequest chat(boolean stream) {
        OllamaChatRequest r = OllamaChatRequest.builder().withModel(MODEL)
                .withMessage(OllamaChatMessageRole.USER, "Hello").build();
        return stream ? r.withStreaming() : r;
    }

    @Test
    void ollama4jWithItsBearerOptionIsServedStreamingAndNot() throws Exception {
        Ollama ollama = ollama4j(TEAM);
        assertThat(ollama.listModels()).extracting(Model::getName).contains(MODEL);

        OllamaResult whole = ollama.generate(generate(false), null);
        assertThat(whole.isDone()).isTrue();
        assertThat(whole.getResponse()).isNotBlank();

        List<String> tokens = new CopyOnWriteArrayList<>();
        OllamaResult streamed = ollama.generate(generate(true), new OllamaGenerateStreamObserver(null, tokens::add));
        assertThat(tokens).isNotEmpty();
        assertThat(String.join("", tokens)).isEqualTo(streamed.getResponse());

        OllamaChatResult chat = ollama.chat(chat(false), null);
        assertThat(chat.getResponseModel().getMessage().getResponse()).isNotBlank();
        List<String> chatTokens = new CopyOnWriteArrayList<>();
        OllamaChatResult chatStreamed = ollama.chat(chat(true),
                part -> chatTokens.add(part.getMessage().getResponse()));
        assertThat(chatTokens).isNotEmpty();
        assertThat(chatStreamed.getResponseModel().getMessage().getResponse()).isNotBlank();
    }

    @Test
    void ollama4jWithoutAKeyOrWithAnUnknownOneFailsWith401() {
        for (String key : new String[] {null, "sk-nobody"}) {
            Ollama ollama = ollama4j(key);
            // The generate caller reads Ollama's {"error":...} and throws its text.
            assertThatThrownBy(() -> ollama.generate(generate(false), null)).isInstanceOf(OllamaException.class)
                    .hasMessage(UNAUTHORIZED);
            assertThatThrownBy(() -> ollama.generate(generate(true), new OllamaGenerateStreamObserver(null, t -> { })))
                    .isInstanceOf(OllamaException.class).hasMessage(UNAUTHORIZED);
            // The chat caller replaces any 401 body with its own word.
            assertThatThrownBy(() -> ollama.chat(chat(false), null)).isInstanceOf(OllamaException.class)
                    .hasMessage("Unauthorized");
            assertThatThrownBy(() -> ollama.chat(chat(true), t -> { })).isInstanceOf(OllamaException.class)
                    .hasMessage("Unauthorized");
            // The model list puts the status and the raw body in its message.
            assertThatThrownBy(ollama::listModels).isInstanceOf(OllamaException.class)
                    .hasMessageStartingWith("401 - {\"error\":\"unauthorized: a valid API key is required");
        }
    }

    @Test
    void ollama4jOverItsRequestsPerMinuteFailsWith429() throws Exception {
        Ollama ollama = ollama4j(OLLAMA4J_SLOW);
        assertThat(ollama.generate(generate(false), null).isDone()).isTrue();
        String over = "rate limit exceeded: key 'ollama4j-slow' may send 1 requests per minute";
        assertThatThrownBy(() -> ollama.generate(generate(false), null)).isInstanceOf(OllamaException.class)
                .hasMessage(over);
        assertThatThrownBy(() -> ollama.generate(generate(true), new OllamaGenerateStreamObserver(null, t -> { })))
                .isInstanceOf(OllamaException.class).hasMessage(over);
        // ollama4j's chat caller knows 400, 401, 404 and 500 only: any other status (Ollama's own 503 too) reaches
        // the user as an OllamaException without text. The refusals below are counted as over_rpm all the same.
        assertThatThrownBy(() -> ollama.chat(chat(false), null)).isInstanceOf(OllamaException.class);
        assertThatThrownBy(() -> ollama.chat(chat(true), t -> { })).isInstanceOf(OllamaException.class);
        JsonNode usage = usage("ollama4j-slow");
        assertThat(usage.get("completed").asLong()).isEqualTo(1);
        assertThat(usage.get("rejected").get("over_rpm").asLong()).isEqualTo(4);
    }

    private static OllamaChatModel chatModel(Map<String, String> headers) {
        return OllamaChatModel.builder().baseUrl(fleet.url()).modelName(MODEL).customHeaders(headers).maxRetries(0)
                .build();
    }

    private static OllamaStreamingChatModel streamingModel(Map<String, String> headers) {
        return OllamaStreamingChatModel.builder().baseUrl(fleet.url()).modelName(MODEL).customHeaders(headers)
                .build();
    }

    private static Map<String, String> bearer(String key) {
        return Map.of("Authorization", "Bearer " + key);
    }

    private static Throwable streamingError(OllamaStreamingChatModel model) throws Exception {
        CollectedChat handler = new CollectedChat();
        model.chat("Stream a reply", handler);
        try {
            handler.done().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        return null;
    }

    @Test
    void langChain4jWithCustomHeadersIsServedStreamingAndNot() throws Exception {
        assertThat(chatModel(bearer(TEAM)).chat("Say hello")).isNotBlank();
        CollectedChat handler = new CollectedChat();
        streamingModel(bearer(TEAM)).chat("Stream a reply", handler);
        ChatResponse complete = handler.done().get(30, TimeUnit.SECONDS);
        assertThat(handler.parts()).isNotEmpty();
        assertThat(complete.aiMessage().text()).isEqualTo(String.join("", handler.parts()));
    }

    @Test
    void langChain4jWithoutAKeyOrWithAnUnknownOneFailsWith401() throws Exception {
        for (Map<String, String> headers : List.of(Map.<String, String>of(), bearer("sk-nobody"))) {
            assertRefused(catchThrowable(() -> chatModel(headers).chat("Say hello")), AuthenticationException.class,
                    401, UNAUTHORIZED);
            assertRefused(streamingError(streamingModel(headers)), AuthenticationException.class, 401, UNAUTHORIZED);
        }
    }

    @Test
    void langChain4jOverItsRequestsPerMinuteFailsWith429() throws Exception {
        assertThat(chatModel(bearer(LANGCHAIN_SLOW)).chat("Say hello")).isNotBlank();
        String over = "rate limit exceeded: key 'langchain4j-slow' may send 1 requests per minute";
        // maxRetries(0): a RateLimitException is retriable, and the default would try twice more before throwing.
        assertRefused(catchThrowable(() -> chatModel(bearer(LANGCHAIN_SLOW)).chat("Say hello")),
                RateLimitException.class, 429, over);
        assertRefused(streamingError(streamingModel(bearer(LANGCHAIN_SLOW))), RateLimitException.class, 429, over);
        JsonNode usage = usage("langchain4j-slow");
        assertThat(usage.get("completed").asLong()).isEqualTo(1);
        assertThat(usage.get("rejected").get("over_rpm").asLong()).isEqualTo(2);
    }

    /** LangChain4j maps the status to its exception type, keeps Ollama's body as the message, the status below. */
    private static void assertRefused(Throwable error, Class<? extends Throwable> type, int status, String text)
            throws Exception {
        assertThat(error).isInstanceOf(type);
        assertThat(JSON.readTree(error.getMessage()).get("error").asText()).isEqualTo(text);
        assertThat(error.getCause()).isInstanceOf(HttpException.class);
        assertThat(((HttpException) error.getCause()).statusCode()).isEqualTo(status);
    }

    /** This key's line in GET /balancer/usage. */
    private static JsonNode usage(String name) throws Exception {
        for (JsonNode key : JSON.readTree(Http.get(fleet.url() + "/balancer/usage").body()).get("keys")) {
            if (key.get("name").asText().equals(name)) {
                return key;
            }
        }
        throw new AssertionError("no usage for " + name);
    }
}

package io.ollamabalancer.it;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.ollama4j.Ollama;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.request.ThinkMode;
import io.github.ollama4j.models.response.OllamaResult;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.ConfigWatcher;
import io.ollamabalancer.metrics.AccessLog;
import io.ollamabalancer.server.BalancerServer;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.RawClient;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * API keys over real sockets against the simulator: 401 shapes on native and OpenAI routes (ollama4j with its bearer
 * option, a plain client on {@code /v1}), each limit's refusal and its {@code Retry-After}, the priority clamp seen
 * in the queue's order, {@code sha256:} keys, and a reload of the keys file while a stream runs.
 */
class ApiKeysIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "llama3.2:1b";
    private static final String OTHER = "qwen2.5:0.5b";
    private static final List<SimModel> MODELS = List.of(
            SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true),
            SimModel.completion(OTHER, 400_000_000L, "qwen2", "494M", "Q8_0", true));
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final Duration CALL = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private TestFleet fleet;
    private Path keysFile;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private void start(String keysJson, int slots, int tokensPerSecond) throws Exception {
        keysFile = dir.resolve("keys.json");
        Files.writeString(keysFile, keysJson);
        fleet = new TestFleet().sim("a", b -> b.models(MODELS).slots(slots).decodeTokensPerSecond(tokensPerSecond)
                .meanOutputTokens(400).maxOutputTokens(400)).start(c -> c.apiKeysFile(keysFile));
    }

    private static String generate(String model, int tokens) {
        return "{\"model\":\"" + model + "\",\"prompt\":\"hello there\",\"stream\":false,\"options\":{\"num_predict\":"
                + tokens + "}}";
    }

    private CompletableFuture<HttpResponse<String>> post(String path, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fleet.url() + path)).timeout(CALL)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> call(String path, String body, String... headers) throws Exception {
        return post(path, body, headers).get(CALL.toSeconds(), TimeUnit.SECONDS);
    }

    private static String[] bearer(String key) {
        return new String[] {"Authorization", "Bearer " + key};
    }

    private static String sha256(String key) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(key.getBytes(StandardCharsets.UTF_8)));
    }

    private static double sample(String metrics, String prefix) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix + " ")) {
                return Double.parseDouble(line.substring(prefix.length() + 1));
            }
        }
        return 0;
    }

    @Test
    void missingOrUnknownKeysGet401InEachRoutesShapeAndTheProbesStayOpen() throws Exception {
        start("{\"keys\": [{\"name\": \"team\", \"key\": \"sk-team\"}]}", 2, 500);

        HttpResponse<String> none = call("/api/generate", generate(MODEL, 2));
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(JSON.readTree(none.body()).get("error").asText()).contains("API key");

        HttpResponse<String> v1 = call("/v1/chat/completions", "{\"model\":\"" + MODEL
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", bearer("sk-wrong"));
        assertThat(v1.statusCode()).isEqualTo(401);
        assertThat(v1.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        JsonNode envelope = JSON.readTree(v1.body()).get("error");
        assertThat(envelope.get("message").asText()).contains("API key");
        // OpenAI's own type and code for a bad key, for clients that read error.code rather than the status.
        assertThat(envelope.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(envelope.get("code").asText()).isEqualTo("invalid_api_key");

        HttpResponse<String> v1ok = call("/v1/chat/completions", "{\"model\":\"" + MODEL
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3}", bearer("sk-team"));
        assertThat(v1ok.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(v1ok.body()).get("choices").get(0).get("message").get("content").asText())
                .isNotBlank();

        // ollama4j sends the key through its bearer option; without it (or with a wrong one) the call fails.
        Ollama anonymous = new Ollama(fleet.url());
        assertThatThrownBy(() -> anonymous.generate(OllamaGenerateRequest.builder().withModel(MODEL).withPrompt("x")
                .withThink(ThinkMode.DISABLED).withStreaming(false).build(), null)).hasMessageContaining("API key");
        Ollama keyed = new Ollama(fleet.url());
        keyed.setBearerAuth("sk-team");
        OllamaResult r = keyed.generate(OllamaGenerateRequest.builder().withModel(MODEL).withPrompt("Why?")
                .withThink(ThinkMode.DISABLED).withStreaming(false).build(), null);
        assertThat(r.isDone()).isTrue();
        assertThat(keyed.listModels()).isNotEmpty();

        assertThat(Http.get(fleet.url() + "/health").statusCode()).isEqualTo(200);
        assertThat(Http.get(fleet.url() + "/ready").statusCode()).isEqualTo(200);
        assertThat(Http.get(fleet.url() + "/api/tags").statusCode()).isEqualTo(401);

        String metrics = Http.get(fleet.url() + "/metrics").body();
        assertThat(sample(metrics, "ollama_balancer_unauthorized_requests_total")).isGreaterThanOrEqualTo(3);
        assertThat(sample(metrics, "ollama_balancer_key_requests_total{key=\"team\"}")).isEqualTo(2);
        assertThat(sample(metrics, "ollama_balancer_key_generated_tokens_total{key=\"team\"}")).isPositive();
    }

    @Test
    void aMalformedKeysFileStopsStartUpWithOneLine() throws Exception {
        Path bad = dir.resolve("bad-keys.json");
        Files.writeString(bad, "{\"keys\": [{\"name\": \"x\", \"key\": \"sk-x\", \"models\": \"llama\"}]}");
        assertThatThrownBy(() -> BalancerServer.start(BalancerConfig.defaults().toBuilder().port(0).apiKeysFile(bad)
                .build(), List.of())).isInstanceOf(ConfigException.class)
                .hasMessage("bad-keys.json: key #1 (\"x\"): \"models\" must be an array of names or globs (* and ?)");
    }

    @Test
    void aKeyOverItsRequestsPerMinuteGets429WithRetryAfterInTheRoutesShape() throws Exception {
        start("{\"keys\": [{\"name\": \"slow\", \"key\": \"sk-slow\", \"requestsPerMinute\": 2}]}", 2, 500);
        assertThat(call("/api/generate", generate(MODEL, 2), bearer("sk-slow")).statusCode()).isEqualTo(200);
        assertThat(call("/api/generate", generate(MODEL, 2), bearer("sk-slow")).statusCode()).isEqualTo(200);
        HttpResponse<String> third = call("/api/generate", generate(MODEL, 2), bearer("sk-slow"));
        assertThat(third.statusCode()).isEqualTo(429);
        long retry = Long.parseLong(third.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retry).isBetween(1L, 30L); // 2 a minute: one back every 30 s
        assertThat(JSON.readTree(third.body()).get("error").asText()).contains("requests per minute");
        HttpResponse<String> v1 = call("/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":\"x\"}",
                bearer("sk-slow"));
        assertThat(v1.statusCode()).isEqualTo(429);
        assertThat(JSON.readTree(v1.body()).get("error").get("message").asText()).contains("requests per minute");
        assertThat(JSON.readTree(v1.body()).get("error").get("type").asText()).isEqualTo("requests");
        assertThat(JSON.readTree(v1.body()).get("error").get("code").asText()).isEqualTo("rate_limit_exceeded");
        String metrics = Http.get(fleet.url() + "/metrics").body();
        assertThat(sample(metrics, "ollama_balancer_key_rejected_total{key=\"slow\",reason=\"over_rpm\"}"))
                .as(metrics).isEqualTo(2);
        assertThat(metrics).contains("ollama_balancer_key_queue_wait_seconds_total{key=\"slow\"}");

        // The same use, as GET /balancer/usage reports it: since start, and over the last minute.
        for (String query : new String[] {"", "?since=1m", "?since=" + java.time.Instant.now().minusSeconds(120)}) {
            HttpResponse<String> usage = Http.get(fleet.url() + "/balancer/usage" + query);
            assertThat(usage.statusCode()).as(query).isEqualTo(200);
            JsonNode slow = JSON.readTree(usage.body()).get("keys").get(0);
            assertThat(slow.get("name").asText()).isEqualTo("slow");
            assertThat(slow.get("requests").asLong()).as(query).isEqualTo(2);
            assertThat(slow.get("completed").asLong()).as(query).isEqualTo(2);
            assertThat(slow.get("rejected").get("over_rpm").asLong()).as(query).isEqualTo(2);
            assertThat(slow.get("rejected").get("over_tpm").asLong()).isZero();
            assertThat(slow.get("generatedTokens").asLong()).as(query).isEqualTo(4);
            assertThat(slow.get("promptTokens").asLong()).as(query).isPositive();
            assertThat(slow.get("queueWaitSeconds").get("mean").asDouble()).isGreaterThanOrEqualTo(0);
        }
        HttpResponse<String> future = Http.get(fleet.url() + "/balancer/usage?since="
                + (System.currentTimeMillis() / 1000 + 3600));
        assertThat(JSON.readTree(future.body()).get("keys").get(0).get("requests").asLong())
                .as("nothing was used after a time still to come").isZero();
        HttpResponse<String> bad = Http.get(fleet.url() + "/balancer/usage?since=yesterday");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).get("error").asText()).startsWith("invalid since 'yesterday'");
    }

    @Test
    void withoutAKeysFileThereIsNoUsageToReport() throws Exception {
        fleet = new TestFleet().sim("a", b -> b.models(MODELS)).start();
        HttpResponse<String> r = Http.get(fleet.url() + "/balancer/usage");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(r.body()).get("error").asText()).contains("--api-keys");
    }

    @Test
    void tokensPerMinuteCountTheRealTokensOfEachAnswer() throws Exception {
        start("{\"keys\": [{\"name\": \"tpm\", \"key\": \"sk-tpm\", \"tokensPerMinute\": 300}]}", 2, 2000);
        // The first answer's 350 generated tokens overdraw the bucket once the real counts come in.
        assertThat(call("/api/generate", generate(MODEL, 350), bearer("sk-tpm")).statusCode()).isEqualTo(200);
        HttpResponse<String> next = call("/api/generate", generate(MODEL, 5), bearer("sk-tpm"));
        assertThat(next.statusCode()).isEqualTo(429);
        assertThat(JSON.readTree(next.body()).get("error").asText()).contains("tokens per minute");
        long retry = Long.parseLong(next.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retry).isBetween(5L, 61L);
    }

    @Test
    void concurrencyModelGlobsAndASha256Key() throws Exception {
        start("{\"keys\": [{\"name\": \"one\", \"key\": \"sha256:" + sha256("sk-one-at-a-time")
                + "\", \"maxConcurrent\": 1, \"models\": [\"llama3.2:*\"]}]}", 2, 40);
        try (RawClient running = new RawClient(fleet.port())) {
            running.post("/api/generate", "{\"model\":\"" + MODEL + "\",\"prompt\":\"long\",\"options\":"
                    + "{\"num_predict\":30}}", "Authorization", "Bearer sk-one-at-a-time");
            running.readUntil("\"done\":false");
            HttpResponse<String> second = call("/api/generate", generate(MODEL, 2), bearer("sk-one-at-a-time"));
            assertThat(second.statusCode()).isEqualTo(429);
            assertThat(second.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(JSON.readTree(second.body()).get("error").asText()).contains("concurrent");
            assertThat(running.readUntil("\"done\":true")).contains("\"done\":true");
        }
        // The place comes back when the stream ends.
        await().atMost(Duration.ofSeconds(5)).until(() ->
                call("/api/generate", generate(MODEL, 2), bearer("sk-one-at-a-time")).statusCode() == 200);
        HttpResponse<String> other = call("/api/generate", generate(OTHER, 2), bearer("sk-one-at-a-time"));
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(other.body()).get("error").asText()).contains("may not use this model");
    }

    @Test
    void aPriorityAboveTheKeysHighestIsClampedNotRefused() throws Exception {
        start("{\"keys\": [{\"name\": \"batch\", \"key\": \"sk-batch\", \"maxPriority\": \"low\"},"
                + "{\"name\": \"chat\", \"key\": \"sk-chat\"}]}", 1, 20);
        List<String> finished = Collections.synchronizedList(new ArrayList<>());
        try (RawClient blocker = new RawClient(fleet.port())) {
            blocker.post("/api/generate", "{\"model\":\"" + MODEL + "\",\"prompt\":\"block\",\"options\":"
                    + "{\"num_predict\":60}}", "Authorization", "Bearer sk-chat");
            blocker.readUntil("\"done\":false");
            CompletableFuture<HttpResponse<String>> batch = post("/api/generate", generate(MODEL, 3),
                    "Authorization", "Bearer sk-batch", "X-Priority", "high");
            batch.thenRun(() -> finished.add("batch"));
            await().atMost(Duration.ofSeconds(5)).until(() -> depth() == 1);
            CompletableFuture<HttpResponse<String>> chat = post("/api/generate", generate(MODEL, 3),
                    "Authorization", "Bearer sk-chat", "X-Priority", "normal");
            chat.thenRun(() -> finished.add("chat"));
            await().atMost(Duration.ofSeconds(5)).until(() -> depth() == 2);
            blocker.readUntil("\"done\":true");
            assertThat(batch.get(10, TimeUnit.SECONDS).statusCode()).as("clamped, not refused").isEqualTo(200);
            assertThat(chat.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        assertThat(finished).as("the batch key's 'high' ran as 'low'").containsExactly("chat", "batch");
    }

    private int depth() throws Exception {
        return (int) sample(Http.get(fleet.url() + "/metrics").body(), "ollama_balancer_queue_depth{model=\""
                + MODEL + "\"}");
    }

    @Test
    void aReloadRefusesARemovedKeyOnItsNextRequestWithoutCuttingItsStream() throws Exception {
        start("{\"keys\": [{\"name\": \"gone\", \"key\": \"sk-gone\"}, {\"name\": \"stays\", \"key\": \"sk-stays\"}]}",
                2, 40);
        Logger access = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        ch.qos.logback.classic.Level level = access.getLevel();
        access.setLevel(ch.qos.logback.classic.Level.INFO);
        access.addAppender(lines);
        try (RawClient stream = new RawClient(fleet.port())) {
            stream.post("/api/generate", "{\"model\":\"" + MODEL + "\",\"prompt\":\"long\",\"options\":"
                    + "{\"num_predict\":40}}", "Authorization", "Bearer sk-gone");
            stream.readUntil("\"done\":false");
            Files.writeString(keysFile, "{\"keys\": [{\"name\": \"stays\", \"key\": \"sk-stays\"}]}");
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() ->
                    Http.send(HttpRequest.newBuilder(URI.create(fleet.url() + "/api/tags"))
                            .header("Authorization", "Bearer sk-gone").GET().build()).statusCode() == 401);
            String all = stream.readUntil("\"done\":true");
            assertThat(all).startsWith("HTTP/1.1 200").contains("\"done\":true");
            // The stream's access-log line, written as it ends, names its key last.
            await().atMost(Duration.ofSeconds(5)).until(() -> List.copyOf(lines.list).stream()
                    .map(ILoggingEvent::getFormattedMessage)
                    .anyMatch(l -> l.contains("endpoint=generate") && l.endsWith(" key=gone")));
        } finally {
            access.detachAppender(lines);
            access.setLevel(level);
        }
        assertThat(call("/api/generate", generate(MODEL, 2), bearer("sk-stays")).statusCode()).isEqualTo(200);
        // A malformed rewrite keeps the keys in force, and says why in one warning.
        Logger watcher = (Logger) LoggerFactory.getLogger(ConfigWatcher.class);
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        warnings.start();
        watcher.addAppender(warnings);
        try {
            Files.writeString(keysFile, "{\"keys\": [{\"name\": \"stays\"}]}");
            await().atMost(Duration.ofSeconds(10)).until(() -> List.copyOf(warnings.list).stream()
                    .map(ILoggingEvent::getFormattedMessage)
                    .anyMatch(l -> l.contains("keeping the current API keys") && l.contains("\"key\" is required")));
        } finally {
            watcher.detachAppender(warnings);
        }
        assertThat(call("/api/generate", generate(MODEL, 2), bearer("sk-stays")).statusCode()).isEqualTo(200);
    }

    @Test
    void noKeyReachesTheLogsOrTheAdminDocuments() throws Exception {
        String secret = "sk-never-logged-4c1d7a";
        String unknown = "sk-unknown-never-logged-9e2a5b";
        start("{\"keys\": [{\"name\": \"quiet\", \"key\": \"" + secret + "\", \"requestsPerMinute\": 2}]}", 2, 200);
        // Everything the balancer logs, at its most talkative, goes to the list for the test's span (and not to the
        // console: the loggers are made non-additive meanwhile).
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        List<Logger> loggers = List.of((Logger) LoggerFactory.getLogger("io.ollamabalancer"),
                (Logger) LoggerFactory.getLogger(AccessLog.LOGGER));
        List<ch.qos.logback.classic.Level> levels = new ArrayList<>();
        for (Logger l : loggers) {
            levels.add(l.getLevel());
            l.setLevel(ch.qos.logback.classic.Level.DEBUG);
            l.setAdditive(false);
            l.addAppender(lines);
        }
        try {
            assertThat(call("/api/generate", generate(MODEL, 2), bearer(secret)).statusCode()).isEqualTo(200);
            assertThat(call("/api/chat", "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"hi\"}],\"options\":{\"num_predict\":3}}", bearer(secret)).statusCode())
                    .isEqualTo(200);
            assertThat(call("/api/generate", generate(MODEL, 2), bearer(secret)).statusCode()).isEqualTo(429);
            assertThat(call("/api/generate", generate(MODEL, 2), bearer(unknown)).statusCode()).isEqualTo(401);
            assertThat(call("/v1/chat/completions", "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":"
                    + "\"user\",\"content\":\"hi\"}]}", bearer(unknown)).statusCode()).isEqualTo(401);
            assertThat(call("/api/generate", generate(MODEL, 2), "Authorization", "Basic " + secret).statusCode())
                    .isEqualTo(401);
            // A rewrite with a mistake next to the key: the warning names the mistake, not the key.
            Files.writeString(keysFile, "{\"keys\": [{\"name\": \"quiet\", \"key\": \"" + secret
                    + "\", \"requestsPerMinute\": \"lots\"}]}");
            await().atMost(Duration.ofSeconds(10)).until(() -> List.copyOf(lines.list).stream()
                    .anyMatch(e -> e.getFormattedMessage().contains("keeping the current API keys")));
            // The key's own lines are there (so the search below looks at what was logged), under its name only.
            await().atMost(Duration.ofSeconds(5)).until(() -> List.copyOf(lines.list).stream()
                    .filter(e -> e.getLoggerName().equals(AccessLog.LOGGER))
                    .filter(e -> e.getFormattedMessage().contains("key=quiet")).count() >= 3);
        } finally {
            for (int i = 0; i < loggers.size(); i++) {
                loggers.get(i).detachAppender(lines);
                loggers.get(i).setAdditive(true);
                loggers.get(i).setLevel(levels.get(i));
            }
        }
        List<String> secrets = List.of(secret, unknown, sha256(secret), sha256(unknown));
        for (ILoggingEvent e : List.copyOf(lines.list)) {
            StringBuilder all = new StringBuilder(e.getFormattedMessage()).append(e.getMDCPropertyMap());
            for (var t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                all.append(' ').append(t.getMessage());
            }
            for (String s : secrets) {
                assertThat(all.toString()).as("logged by %s", e.getLoggerName()).doesNotContain(s);
            }
        }
        for (String path : List.of("/balancer/status", "/balancer/usage", "/metrics", "/balancer/requests")) {
            String body = Http.get(fleet.url() + path).body();
            for (String s : secrets) {
                assertThat(body).as(path).doesNotContain(s);
            }
        }
    }
}

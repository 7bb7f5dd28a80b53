package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.NodeClients;
import io.ollamabalancer.testing.TestCertificate;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official JavaScript clients against a balancer with API keys: runs {@code clients/js/keys.test.mjs}, where
 * ollama-js passes the key through its {@code headers} option and the OpenAI SDK through {@code apiKey}: a valid key
 * is served, streaming and not; a missing or unknown key is each client's 401 error (ollama-js's ResponseError with
 * Ollama's text, the SDK's AuthenticationError with OpenAI's envelope); a key over its requests per minute is each
 * client's 429 with {@code Retry-After}. Once over plain HTTP, once over HTTPS with a self-signed certificate made in
 * the test and given to node as an extra CA. Skipped like {@link JsClientsIT} when node, npm or the packages are
 * missing.
 */
class JsClientKeysIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "llama3.2:1b";
    private static final List<SimModel> MODELS = List.of(
            SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true));

    @TempDir
    Path dir;

    @Test
    void officialJavaScriptClientsPassTheirKeysAndSeeTheRefusals() throws Exception {
        NodeClients.assumeReady("JsClientKeysIT");
        try (TestFleet fleet = start(c -> c)) {
            check(fleet.url(), Map.of(), HttpClient.newHttpClient());
        }
    }

    @Test
    void theSameOverHttpsWithASelfSignedCertificate() throws Exception {
        NodeClients.assumeReady("JsClientKeysIT");
        TestCertificate cert = TestCertificate.selfSigned(dir, "balancer", "balancer.test");
        try (TestFleet fleet = start(c -> c.tlsCertFile(cert.certFile()).tlsKeyFile(cert.keyFile()))) {
            SSLContext trust = cert.trustingContext();
            // node's fetch, which both clients use, trusts what NODE_EXTRA_CA_CERTS adds to its built-in roots.
            check("https://127.0.0.1:" + fleet.port(), Map.of("NODE_EXTRA_CA_CERTS", cert.certFile().toString()),
                    HttpClient.newBuilder().sslContext(trust).build());
        }
    }

    private TestFleet start(UnaryOperator<BalancerConfig.Builder> tweak) throws Exception {
        Path keys = dir.resolve("keys.json");
        Files.writeString(keys, "{\"keys\": [{\"name\": \"team\", \"key\": \"sk-js-team\"},"
                + "{\"name\": \"ollama-js-slow\", \"key\": \"sk-ollama-js-slow\", \"requestsPerMinute\": 1},"
                + "{\"name\": \"openai-slow\", \"key\": \"sk-openai-slow\", \"requestsPerMinute\": 1}]}");
        return new TestFleet().sim("a", b -> b.models(MODELS).maxOutputTokens(20))
                .start(c -> tweak.apply(c.apiKeysFile(keys)));
    }

    /** Runs the JavaScript checks against {@code url}, then reads what the balancer counted for each key. */
    private static void check(String url, Map<String, String> extraEnv, HttpClient http) throws Exception {
        Map<String, String> env = new HashMap<>(extraEnv);
        env.put("BALANCER_URL", url);
        env.put("COMPLETION_MODEL", MODEL);
        env.put("API_KEY", "sk-js-team");
        env.put("OLLAMA_SLOW_KEY", "sk-ollama-js-slow");
        env.put("OPENAI_SLOW_KEY", "sk-openai-slow");
        NodeClients.assertPasses("keys.test.mjs", env);

        // The refusals the clients saw are the balancer's, counted under each key's reason.
        HttpResponse<String> body = http.send(HttpRequest.newBuilder(URI.create(url + "/balancer/usage"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        Map<String, JsonNode> usage = new HashMap<>();
        for (JsonNode key : JSON.readTree(body.body()).get("keys")) {
            usage.put(key.get("name").asText(), key);
        }
        assertThat(usage.get("ollama-js-slow").get("completed").asLong()).isEqualTo(1);
        assertThat(usage.get("ollama-js-slow").get("rejected").get("over_rpm").asLong()).isEqualTo(4);
        assertThat(usage.get("openai-slow").get("completed").asLong()).isEqualTo(1);
        assertThat(usage.get("openai-slow").get("rejected").get("over_rpm").asLong()).isEqualTo(3);
        assertThat(usage.get("team").get("rejected").get("over_rpm").asLong()).isZero();
        // The valid key's six generations (four through ollama-js, two on /v1); model lists are not metered.
        assertThat(usage.get("team").get("completed").asLong()).isEqualTo(6);
    }
}

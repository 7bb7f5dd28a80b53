package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestCertificate;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code https://} backends: the simulator serves HTTPS with a certificate made in the test; with {@code --backend-ca}
 * the balancer generates, streams, merges lists and probes health through TLS; without it (the system's trust store)
 * the backend fails its health checks with an error that says its certificate is not trusted.
 */
class BackendTlsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));

    @TempDir
    Path dir;

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void anHttpsBackendIsReachedWithTheBackendCa() throws Exception {
        TestCertificate sim = TestCertificate.selfSigned(dir, "sim", "sim.test");
        fleet = new TestFleet().sim("secure", b -> b.models(ONE_MODEL).tls(sim.certFile(), sim.keyFile()))
                .start(b -> b.backendCaFile(sim.certFile()));
        assertThat(fleet.backends().get(0).url().toString()).startsWith("https://127.0.0.1:");

        HttpResponse<String> tags = Http.get(fleet.url() + "/api/tags");
        assertThat(tags.statusCode()).isEqualTo(200);
        assertThat(tags.body()).contains("\"llama3.2:1b\"");
        HttpResponse<String> streamed = Http.post(fleet.url() + "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"hello\"}");
        assertThat(streamed.statusCode()).isEqualTo(200);
        assertThat(streamed.headers().firstValue("x-balancer-backend")).hasValue("secure");
        assertThat(streamed.body().lines().count()).isGreaterThan(2);
        assertThat(streamed.body()).contains("\"done\":true");
        JsonNode backend = backend();
        assertThat(backend.get("lastError").isNull()).as("no health error: %s", backend).isTrue();
    }

    @Test
    void anUntrustedBackendCertificateIsAClearHealthError() throws Exception {
        TestCertificate sim = TestCertificate.selfSigned(dir, "sim", "sim.test");
        fleet = new TestFleet().sim("secure", b -> b.models(ONE_MODEL).tls(sim.certFile(), sim.keyFile()))
                .start(b -> b.connectTimeout(Duration.ofSeconds(2)));

        HttpResponse<String> r = Http.post(fleet.url() + "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"hello\",\"stream\":false}");
        // Its model list never arrived (the handshake failed), so the model is unknown: Ollama's 404.
        assertThat(r.statusCode()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(backend().get("lastError").asText())
                .contains("TLS handshake with secure failed: its certificate is not trusted")
                .contains("--backend-ca"));
        assertThat(fleet.sim(0).counters().requestsReceived()).as("no request got past the handshake").isZero();
    }

    private JsonNode backend() throws Exception {
        return JSON.readTree(Http.get(fleet.url() + "/balancer/status").body()).get("backends").get(0);
    }
}

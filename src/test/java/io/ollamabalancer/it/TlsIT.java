package io.ollamabalancer.it;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.RawClient;
import io.ollamabalancer.testing.TestCertificate;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * HTTPS on the client listener, over real sockets with a self-signed certificate made by keytool in the test: the
 * JDK's HttpClient generates and streams through it with HTTP/1.1 chosen by ALPN, a certificate swap reaches new
 * connections while an open one keeps working (a stream running through the swap included), a bad new pair keeps the old one, plain HTTP to the port gets a
 * readable 400, and handshakes are counted in {@code /metrics}.
 */
class TlsIT {
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
    private static final String GENERATE = "{\"model\":\"llama3.2:1b\",\"prompt\":\"why is the sky blue?\"";

    @TempDir
    Path dir;

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private void startWith(Path cert, Path key) throws Exception {
        startWith(cert, key, 0);
    }

    /**
     * With {@code tokensPerSecond} above 0, the simulator generates that slowly, and answers run to their
     * {@code num_predict} (a mean far above the cap; the length drawn for a body is the same on every run).
     */
    private void startWith(Path cert, Path key, int tokensPerSecond) throws Exception {
        fleet = new TestFleet().sim("only", b -> tokensPerSecond > 0
                        ? b.models(ONE_MODEL).decodeTokensPerSecond(tokensPerSecond).meanOutputTokens(20_000)
                                .maxOutputTokens(400)
                        : b.models(ONE_MODEL))
                .start(b -> b.tlsCertFile(cert).tlsKeyFile(key));
    }

    /** Two certificates, {@code a} installed as the pair the balancer watches, and a client that trusts both. */
    private record Swap(TestCertificate a, TestCertificate b, Path cert, Path key, SSLContext trustBoth) {
    }

    private Swap startForASwap(int tokensPerSecond) throws Exception {
        TestCertificate a = TestCertificate.selfSigned(dir, "a", "balancer-a");
        TestCertificate b = TestCertificate.selfSigned(dir, "b", "balancer-b");
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        a.installAs(cert, key);
        startWith(cert, key, tokensPerSecond);
        return new Swap(a, b, cert, key, trusting(a, b));
    }

    private String url() {
        return "https://127.0.0.1:" + fleet.port();
    }

    /** Prefers HTTP/2, so that getting HTTP/1.1 shows the server's ALPN choice. */
    private static HttpClient client(SSLContext trust) {
        return HttpClient.newBuilder().sslContext(trust).version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static HttpRequest post(String url, String json) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    private String metrics(SSLContext trust) throws Exception {
        return client(trust).send(HttpRequest.newBuilder(URI.create(url() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private SSLSocket connect(SSLContext trust, String... alpn) throws Exception {
        SSLSocket s = (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", fleet.port());
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        if (alpn.length > 0) {
            p.setApplicationProtocols(alpn);
        }
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }

    private Certificate certificateOfANewConnection(SSLContext trust) throws Exception {
        try (SSLSocket s = connect(trust)) {
            return s.getSession().getPeerCertificates()[0];
        }
    }

    private static SSLContext trusting(TestCertificate... certs) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        for (int i = 0; i < certs.length; i++) {
            ks.setCertificateEntry("c" + i, certs[i].certificate());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    @Test
    void generateAndStreamThroughHttpsWithHttp11ChosenByAlpn() throws Exception {
        TestCertificate a = TestCertificate.selfSigned(dir, "a", "balancer-a");
        startWith(a.certFile(), a.keyFile());
        HttpClient client = client(a.trustingContext());

        HttpResponse<String> whole = client.send(post(url() + "/api/generate", GENERATE + ",\"stream\":false}"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.version()).as("the server offers only http/1.1 through ALPN")
                .isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(whole.body()).contains("\"done\":true");

        HttpResponse<java.util.stream.Stream<String>> streamed = client.send(
                post(url() + "/api/generate", GENERATE + "}"), HttpResponse.BodyHandlers.ofLines());
        assertThat(streamed.statusCode()).isEqualTo(200);
        List<String> lines = streamed.body().toList();
        assertThat(lines).hasSizeGreaterThan(2);
        assertThat(lines.get(0)).contains("\"response\":").contains("\"done\":false");
        assertThat(lines.get(lines.size() - 1)).contains("\"done\":true").contains("\"eval_count\":");

        try (SSLSocket s = connect(a.trustingContext(), "h2", "http/1.1")) {
            assertThat(s.getApplicationProtocol()).isEqualTo("http/1.1");
        }
        assertThat(metrics(a.trustingContext())).containsPattern(
                "ollama_balancer_tls_handshakes_total\\{result=\"ok\"} [3-9]");
    }

    @Test
    void aSwappedCertificateReachesNewConnectionsWhileAnOpenOneKeepsWorking() throws Exception {
        Swap swap = startForASwap(0);
        TestCertificate a = swap.a();
        TestCertificate b = swap.b();
        Path cert = swap.cert();
        Path key = swap.key();
        SSLContext trustBoth = swap.trustBoth();

        try (SSLSocket held = connect(trustBoth); RawClient open = new RawClient(held)) {
            assertThat(open.get("/api/version").readUntil("\"version\"")).startsWith("HTTP/1.1 200");
            assertThat(held.getSession().getPeerCertificates()[0]).isEqualTo(a.certificate());

            b.installAs(cert, key);
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                    .until(() -> certificateOfANewConnection(trustBoth).equals(b.certificate()));

            String both = open.get("/api/tags").readUntil("\"models\"");
            assertThat(both.split("HTTP/1.1 200", -1)).as("two answers on the connection opened before the swap")
                    .hasSize(3);
            assertThat(held.getSession().getPeerCertificates()[0]).isEqualTo(a.certificate());
        }

        // A pair that does not match (b's certificate, a's key): logged, counted, and b stays in force.
        Path aside = dir.resolve("mismatch.key");
        Files.copy(a.keyFile(), aside);
        Files.move(aside, key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> metrics(trustBoth)
                .contains("ollama_balancer_tls_certificate_reloads_total{result=\"rejected\"} 1"));
        assertThat(metrics(trustBoth)).contains("ollama_balancer_tls_certificate_reloads_total{result=\"ok\"} 1");
        assertThat(certificateOfANewConnection(trustBoth)).isEqualTo(b.certificate());
        HttpResponse<String> still = client(trustBoth).send(post(url() + "/api/generate",
                GENERATE + ",\"stream\":false}"), HttpResponse.BodyHandlers.ofString());
        assertThat(still.statusCode()).isEqualTo(200);
    }

    @Test
    void aStreamRunningAcrossACertificateSwapEndsWhole() throws Exception {
        // 300 tokens at 25 a second: a stream of about 12 s, which the swap (seen within a second or two, at most
        // one 5 s poll) lands in the middle of.
        Swap swap = startForASwap(25);
        SSLContext trustBoth = swap.trustBoth();

        HttpResponse<java.util.stream.Stream<String>> stream = client(trustBoth).send(post(url() + "/api/generate",
                GENERATE + ",\"options\":{\"num_predict\":300}}"), HttpResponse.BodyHandlers.ofLines());
        assertThat(stream.statusCode()).isEqualTo(200);
        Iterator<String> lines = stream.body().iterator();
        assertThat(lines.next()).contains("\"done\":false");

        swap.b().installAs(swap.cert(), swap.key());
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                .until(() -> certificateOfANewConnection(trustBoth).equals(swap.b().certificate()));
        assertThat(fleet.sim(0).counters().activeGenerations()).as("the stream still runs after the swap").isEqualTo(1);

        int tokens = 1;
        String last = "";
        while (lines.hasNext()) {
            last = lines.next();
            tokens += last.contains("\"done\":false") ? 1 : 0;
        }
        assertThat(tokens).isEqualTo(300);
        assertThat(last).contains("\"done\":true").contains("\"done_reason\":\"length\"")
                .contains("\"eval_count\":300,");
        assertThat(stream.sslSession().orElseThrow().getPeerCertificates()[0]).isEqualTo(swap.a().certificate());
    }

    @Test
    void plainHttpGetsAReadable400AndAnUntrustingClientCountsAsAFailedHandshake() throws Exception {
        TestCertificate a = TestCertificate.selfSigned(dir, "a", "balancer-a");
        startWith(a.certFile(), a.keyFile());

        try (RawClient plain = new RawClient(fleet.port())) {
            String answer = plain.get("/api/version").readUntil("(the server closes first)");
            assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("Connection: close")
                    .endsWith("{\"error\":\"this port serves HTTPS; use an https:// URL\"}");
        }
        SSLContext systemTrust = SSLContext.getInstance("TLS");
        systemTrust.init(null, null, null);
        assertThatThrownBy(() -> connect(systemTrust).close()).isInstanceOf(SSLHandshakeException.class);

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(metrics(a.trustingContext()))
                .contains("ollama_balancer_tls_handshakes_total{result=\"plaintext\"} 1")
                .contains("ollama_balancer_tls_handshakes_total{result=\"failed\"} 1"));
    }
}

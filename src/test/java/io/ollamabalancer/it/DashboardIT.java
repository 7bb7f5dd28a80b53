package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The dashboard's routes over real sockets: the page's encoding and caching, the data it polls, its protection. */
class DashboardIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private static HttpResponse<byte[]> get(String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void thePageIsServedGzippedWithAnETagAndRevalidatesTo304() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL)).start();
        HttpResponse<byte[]> page = get(fleet.url() + "/balancer/ui", "Accept-Encoding", "gzip");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("cache-control")).hasValue("no-cache");
        assertThat(page.headers().firstValue("vary")).hasValue("accept-encoding");
        String html;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(page.body()))) {
            html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(html).startsWith("<!DOCTYPE html>").contains("/balancer/ui/data");

        String etag = page.headers().firstValue("etag").orElseThrow();
        HttpResponse<byte[]> again = get(fleet.url() + "/balancer/ui", "If-None-Match", etag);
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        HttpResponse<byte[]> plain = get(fleet.url() + "/balancer/ui");
        assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
        assertThat(new String(plain.body(), StandardCharsets.UTF_8)).isEqualTo(html);
    }

    @Test
    void theDataHasTheFleetAndFillsWithOneSamplePerSecond() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL)).start();
        JsonNode d = JSON.readTree(Http.get(fleet.url() + "/balancer/ui/data").body());
        assertThat(d.get("backends").get(0).get("name").asText()).isEqualTo("only");
        assertThat(d.get("models").toString()).isEqualTo("[\"llama3.2:1b\"]");
        assertThat(d.get("backends").get(0).get("installed").toString()).isEqualTo("[0]");
        await().atMost(Duration.ofSeconds(4)).pollInterval(Duration.ofMillis(100)).until(() ->
                JSON.readTree(Http.get(fleet.url() + "/balancer/ui/data").body()).get("samples").size() >= 2);

        HttpResponse<String> bad = Http.get(fleet.url() + "/balancer/ui/data?since=yesterday");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).get("error").asText()).contains("since");
    }

    @Test
    void withAnAdminPortTheDashboardIsServedThereOnly() throws Exception {
        int adminPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            adminPort = probe.getLocalPort();
        }
        int port = adminPort;
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL)).start(c -> c.adminPort(port));
        String admin = "http://127.0.0.1:" + adminPort;
        assertThat(Http.get(fleet.url() + "/balancer/ui").statusCode()).isEqualTo(404);
        assertThat(Http.get(fleet.url() + "/balancer/ui/data").statusCode()).isEqualTo(404);
        assertThat(Http.get(admin + "/balancer/ui").statusCode()).isEqualTo(200);
        assertThat(Http.get(admin + "/balancer/ui/data").statusCode()).isEqualTo(200);
    }
}

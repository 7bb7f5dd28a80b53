package io.ollamabalancer.sim;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Test helpers: a JDK HTTP/1.1 client for the simulator and JSON reading through the simulator's own parser. */
final class SimHttp {
    static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    private SimHttp() {
    }

    static HttpResponse<String> get(OllamaSimulator sim, String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + path)).GET()
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(OllamaSimulator sim, String path, String body)
            throws IOException, InterruptedException {
        return CLIENT.send(postRequest(sim, path, body), HttpResponse.BodyHandlers.ofString());
    }

    static HttpRequest postRequest(OllamaSimulator sim, String path, String body) {
        return HttpRequest.newBuilder(URI.create(sim.baseUrl() + path))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(String json) {
        return (Map<String, Object>) JsonTree.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    static long num(Object o) {
        return ((Number) o).longValue();
    }

    /** The NDJSON lines of a body (each must end with a newline). */
    static List<String> lines(String body) {
        return List.of(body.split("\n"));
    }
}

package io.ollamabalancer.sim;

import io.ollamabalancer.testing.GeneratedBlob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static io.ollamabalancer.sim.SimHttp.obj;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code HEAD}/{@code POST /api/blobs/:digest} and {@code /api/create} from uploaded blobs, over real sockets. */
class SimBlobsTest {
    private OllamaSimulator sim;

    @BeforeEach
    void start() {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("blobs").build());
    }

    @AfterEach
    void stop() {
        sim.close();
    }

    private HttpResponse<String> upload(String digest, HttpRequest.BodyPublisher body, boolean expectContinue)
            throws Exception {
        return SimHttp.CLIENT.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/api/blobs/" + digest))
                .timeout(Duration.ofSeconds(30)).expectContinue(expectContinue).POST(body).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> head(String digest) throws Exception {
        return SimHttp.CLIENT.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/api/blobs/" + digest))
                .timeout(Duration.ofSeconds(10)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void uploadHashingToItsDigestIsStoredAndThenFound() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(3_000_000, 1);
        assertThat(head(blob.digest()).statusCode()).isEqualTo(404);

        HttpResponse<String> r = upload(blob.digest(), blob.withLength(), false);

        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(r.body()).isEmpty();
        assertThat(sim.hasBlob(blob.digest())).isTrue();
        assertThat(sim.hasBlob(blob.digest().replace(':', '-'))).as("both spellings name one file").isTrue();
        assertThat(sim.counters().blobsStored()).isEqualTo(1);
        assertThat(sim.counters().blobBytesStored()).isEqualTo(blob.size());
        assertThat(head(blob.digest()).statusCode()).isEqualTo(200);
        assertThat(upload(blob.digest(), blob.withLength(), false).statusCode()).as("already there").isEqualTo(200);
    }

    @Test
    void chunkedAndExpectContinueUploadsWork() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(700_001, 2);
        assertThat(upload(blob.digest(), blob.chunked(), true).statusCode()).isEqualTo(201);
        GeneratedBlob other = new GeneratedBlob(5, 3);
        assertThat(upload(other.digest(), other.withLength(), true).statusCode()).isEqualTo(201);
        assertThat(sim.counters().blobsStored()).isEqualTo(2);
    }

    @Test
    void aBodyThatDoesNotHashToTheDigestIsRefusedWithOllamasText() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(100_000, 4);
        String claimed = new GeneratedBlob(100_000, 5).digest();

        HttpResponse<String> r = upload(claimed, blob.withLength(), false);

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(obj(r.body()).get("error")).isEqualTo(
                "digest mismatch, expected \"" + claimed + "\", got \"" + blob.digest() + "\"");
        assertThat(sim.hasBlob(claimed)).isFalse();
        assertThat(sim.hasBlob(blob.digest())).isFalse();
    }

    @Test
    void malformedDigestsAndOtherMethodsGetOllamasAnswers() throws Exception {
        HttpResponse<String> bad = upload("sha256:xyz", HttpRequest.BodyPublishers.ofString("x"), false);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(obj(bad.body()).get("error")).isEqualTo("invalid digest format");
        HttpResponse<String> get = SimHttp.get(sim, "/api/blobs/" + new GeneratedBlob(8, 6).digest());
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.body()).isEqualTo("405 method not allowed");
        // Still serving ordinary requests on the same client.
        assertThat(SimHttp.get(sim, "/api/version").statusCode()).isEqualTo(200);
    }

    @Test
    void aClientThatLeavesMidUploadIsCountedCancelledAndNothingIsStored() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(10_000_000, 7);
        try (Socket s = new Socket("127.0.0.1", sim.port()); InputStream in = blob.open()) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /api/blobs/" + blob.digest() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                    + blob.size() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(in.readNBytes(1_000_000));
            out.flush();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().cancelled() == 1);
        assertThat(sim.hasBlob(blob.digest())).isFalse();
        assertThat(sim.counters().blobsStored()).isZero();
    }

    @Test
    void createFromAnUploadedGgufInstallsTheModel() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(2_000_000, 8);
        assertThat(upload(blob.digest(), blob.withLength(), false).statusCode()).isEqualTo(201);

        HttpResponse<String> r = SimHttp.post(sim, "/api/create",
                "{\"model\":\"mine:1b\",\"files\":{\"mine.gguf\":\"" + blob.digest() + "\"}}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/x-ndjson");
        List<String> lines = SimHttp.lines(r.body());
        assertThat(lines.get(0)).isEqualTo("{\"status\":\"parsing GGUF\"}");
        assertThat(lines.get(lines.size() - 1)).isEqualTo("{\"status\":\"success\"}");
        assertThat(sim.hasModel("mine:1b")).isTrue();
        assertThat(SimHttp.get(sim, "/api/tags").body()).contains("\"name\":\"mine:1b\"");
    }

    @Test
    void createNamingABlobThisServerLacksFailsAsOllamaDoes() throws Exception {
        String missing = new GeneratedBlob(64, 9).digest();
        String path = "/usr/share/ollama/.ollama/models/blobs/" + missing.replace(':', '-');

        HttpResponse<String> streamed = SimHttp.post(sim, "/api/create",
                "{\"model\":\"x\",\"files\":{\"x.gguf\":\"" + missing + "\"}}");
        assertThat(streamed.statusCode()).as("the error comes after the first progress line").isEqualTo(200);
        assertThat(SimHttp.lines(streamed.body())).containsExactly("{\"status\":\"parsing GGUF\"}",
                "{\"error\":\"open " + path + ": no such file or directory\"}");

        HttpResponse<String> whole = SimHttp.post(sim, "/api/create",
                "{\"model\":\"x\",\"stream\":false,\"files\":{\"x.gguf\":\"" + missing + "\"}}");
        assertThat(whole.statusCode()).isEqualTo(500);
        assertThat(obj(whole.body()).get("error")).isEqualTo("open " + path + ": no such file or directory");

        HttpResponse<String> untyped = SimHttp.post(sim, "/api/create",
                "{\"model\":\"x\",\"files\":{\"model\":\"" + missing + "\"}}");
        assertThat(untyped.statusCode()).isEqualTo(400);
        assertThat(obj(untyped.body()).get("error")).isEqualTo("blob not found for model (digest " + missing
                + "): open " + path + ": no such file or directory");
        assertThat(sim.hasModel("x")).isFalse();
    }

    @Test
    void createChecksItsFieldsBeforeTouchingBlobs() throws Exception {
        String d = new GeneratedBlob(64, 10).digest();
        assertThat(obj(SimHttp.post(sim, "/api/create", "{\"model\":\"x\"}").body()).get("error"))
                .isEqualTo("neither 'from' or 'files' was specified");
        assertThat(obj(SimHttp.post(sim, "/api/create",
                "{\"model\":\"x\",\"files\":{\"../x.gguf\":\"" + d + "\"}}").body()).get("error"))
                .isEqualTo("file path must be relative: ../x.gguf");
        assertThat(obj(SimHttp.post(sim, "/api/create",
                "{\"model\":\"x\",\"files\":{\"x.gguf\":\"sha256:12\"}}").body()).get("error"))
                .isEqualTo("invalid digest for x.gguf: invalid digest format");
        HttpResponse<String> copy = SimHttp.post(sim, "/api/create",
                "{\"model\":\"copy\",\"from\":\"llama3.2:1b\",\"stream\":false}");
        assertThat(copy.statusCode()).isEqualTo(200);
        assertThat(sim.hasModel("copy:latest")).isTrue();
    }
}

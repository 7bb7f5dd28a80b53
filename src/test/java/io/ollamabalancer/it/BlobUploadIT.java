package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.testing.GeneratedBlob;
import io.ollamabalancer.testing.Http;
import io.ollamabalancer.testing.NettyMemory;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Blob uploads ({@code POST /api/blobs/:digest}) stream through the balancer to real simulators, which hash what
 * arrives: far past {@code --max-body}, with bounded memory and backpressure, keep-alive afterwards, and the failure
 * cases (wrong digest, client gone, backend gone). Then {@code /api/create} follows the blob to its backend.
 */
class BlobUploadIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_BODY = 1024 * 1024;

    private TestFleet fleet;

    /** Two simulators, alpha first (the default target), behind a balancer that aggregates at most 1 MiB. */
    private TestFleet start() throws InterruptedException {
        fleet = new TestFleet().sim("alpha", b -> b).sim("beta", b -> b)
                .start(b -> b.maxBodyBytes(MAX_BODY));
        return fleet;
    }

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private HttpResponse<String> upload(String base, String digest, HttpRequest.BodyPublisher body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/blobs/" + digest))
                .timeout(Duration.ofSeconds(120)).POST(body);
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return Http.send(b.build());
    }

    private HttpResponse<String> head(String digest, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fleet.url() + "/api/blobs/" + digest))
                .timeout(Duration.ofSeconds(10)).method("HEAD", HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return Http.send(b.build());
    }

    @Test
    void anUploadFarPastMaxBodyStreamsToTheBackendWhichVerifiesIt() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(96L * 1024 * 1024, 11);
        GeneratedBlob direct = new GeneratedBlob(blob.size(), 12);
        String digest = blob.digest();
        direct.digest();

        long t0 = System.nanoTime();
        HttpResponse<String> r;
        long held;
        try (NettyMemory memory = NettyMemory.watch()) {
            r = upload(fleet.url(), digest, blob.withLength());
            memory.close();
            held = memory.peakGrowth();
        }
        long through = System.nanoTime() - t0;

        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(r.headers().firstValue("x-balancer-backend")).hasValue("alpha");
        OllamaSimulator alpha = fleet.sim(0);
        assertThat(alpha.hasBlob(digest)).as("the backend hashed the body to its digest").isTrue();
        assertThat(alpha.counters().blobBytesStored()).isEqualTo(blob.size());
        assertThat(held).as("memory Netty held at the peak, for a %d-byte upload", blob.size())
                .isLessThan(16L * 1024 * 1024);

        long t1 = System.nanoTime();
        assertThat(upload(fleet.sim(1).baseUrl(), direct.digest(), direct.withLength()).statusCode()).isEqualTo(201);
        long straight = System.nanoTime() - t1;
        System.out.printf(Locale.ROOT, "BlobUploadIT: %d MiB through the balancer %.0f MiB/s, straight to the "
                        + "simulator %.0f MiB/s; Netty memory peak +%.1f MiB%n", blob.size() >> 20,
                mibPerSecond(blob.size(), through), mibPerSecond(direct.size(), straight), held / 1048576.0);

        // The connection pool and the client connection both stay usable.
        assertThat(Http.get(fleet.url() + "/api/tags").statusCode()).isEqualTo(200);
    }

    @Test
    void aSlowBackendHoldsTheClientBackInsteadOfTheBalancerBuffering() throws Exception {
        start();
        fleet.sim(0).faults().uploadBytesPerSecond(16L * 1024 * 1024);
        GeneratedBlob blob = new GeneratedBlob(24L * 1024 * 1024, 13);
        blob.digest();

        HttpResponse<String> r;
        long held;
        long t0 = System.nanoTime();
        try (NettyMemory memory = NettyMemory.watch()) {
            // Chunked, with Expect: 100-continue: the balancer answers 100 once the backend is connected.
            r = Http.send(HttpRequest.newBuilder(URI.create(fleet.url() + "/api/blobs/" + blob.digest()))
                    .timeout(Duration.ofSeconds(60)).expectContinue(true).POST(blob.chunked()).build());
            memory.close();
            held = memory.peakGrowth();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(fleet.sim(0).hasBlob(blob.digest())).isTrue();
        assertThat(seconds).as("the backend's pace").isGreaterThan(1.0);
        assertThat(held).as("what the balancer held while the client was faster than the backend")
                .isLessThan(8L * 1024 * 1024);
    }

    @Test
    void aBodyThatDoesNotMatchItsDigestGetsOllamas400AndTheConnectionIsReused() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(3 * MAX_BODY, 14);
        String claimed = new GeneratedBlob(64, 15).digest();
        try (Socket s = socket(); InputStream in = blob.open()) {
            OutputStream out = s.getOutputStream();
            writeHead(out, "POST", "/api/blobs/" + claimed, blob.size());
            in.transferTo(out);
            out.flush();
            String answer = readResponse(s);
            assertThat(answer).startsWith("HTTP/1.1 400");
            assertThat(answer).contains("{\"error\":\"digest mismatch, expected \\\"" + claimed
                    + "\\\", got \\\"" + blob.digest() + "\\\"\"}");

            // Keep-alive: the same connection serves the next request.
            writeHead(out, "GET", "/api/version", -1);
            assertThat(readResponse(s)).startsWith("HTTP/1.1 200").contains("\"version\"");
        }
        assertThat(fleet.sim(0).hasBlob(claimed)).isFalse();
    }

    @Test
    void createFollowsTheBlobToItsBackendEvenWhenAnotherComesFirst() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(2 * MAX_BODY, 16);
        // Uploaded to beta by name; alpha is first in the fleet and would be the default.
        HttpResponse<String> up = upload(fleet.url(), blob.digest(), blob.withLength(), "X-Ollama-Backend", "beta");
        assertThat(up.statusCode()).isEqualTo(201);
        assertThat(fleet.sim(1).hasBlob(blob.digest())).isTrue();
        assertThat(fleet.sim(0).hasBlob(blob.digest())).isFalse();

        // HEAD and create name no backend: they go where the blob is.
        assertThat(head(blob.digest()).statusCode()).isEqualTo(200);
        HttpResponse<String> create = Http.post(fleet.url() + "/api/create",
                "{\"model\":\"mine:1b\",\"files\":{\"mine.gguf\":\"" + blob.digest() + "\"},\"stream\":false}");
        assertThat(create.statusCode()).as(create.body()).isEqualTo(200);
        assertThat(create.headers().firstValue("x-balancer-backend")).hasValue("beta");
        assertThat(fleet.sim(1).hasModel("mine:1b")).isTrue();
        assertThat(fleet.sim(0).hasModel("mine:1b")).isFalse();
        // The balancer refreshes beta's models after the create: the new model becomes routable.
        await().atMost(Duration.ofSeconds(5)).until(() -> fleet.balancer().fleet().byName("beta")
                .hasModel("mine:1b"));

        // Without the balancer's memory of the blob, the create goes to the default and fails there as Ollama does.
        String unknown = new GeneratedBlob(64, 17).digest();
        HttpResponse<String> lost = Http.post(fleet.url() + "/api/create",
                "{\"model\":\"lost\",\"files\":{\"lost.gguf\":\"" + unknown + "\"},\"stream\":false}");
        assertThat(lost.statusCode()).isEqualTo(500);
        assertThat(lost.headers().firstValue("x-balancer-backend")).hasValue("alpha");
        assertThat(JSON.readTree(lost.body()).get("error").asText()).endsWith("no such file or directory");
    }

    @Test
    void aBlobFoundByHeadIsRememberedAndAHeadMissForgetsIt() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(4096, 18);
        // Put on beta behind the balancer's back, then found through it.
        assertThat(upload(fleet.sim(1).baseUrl(), blob.digest(), blob.withLength()).statusCode()).isEqualTo(201);
        assertThat(head(blob.digest()).statusCode()).as("alpha, the default, lacks it").isEqualTo(404);
        assertThat(head(blob.digest(), "X-Ollama-Backend", "beta").statusCode()).isEqualTo(200);

        HttpResponse<String> again = head(blob.digest());
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.headers().firstValue("x-balancer-backend")).hasValue("beta");
        HttpResponse<String> create = Http.post(fleet.url() + "/api/create",
                "{\"model\":\"found\",\"files\":{\"model\":\"" + blob.digest() + "\"},\"stream\":false}");
        assertThat(create.headers().firstValue("x-balancer-backend")).hasValue("beta");
        assertThat(create.statusCode()).as(create.body()).isEqualTo(200);
    }

    @Test
    void aClientThatGoesSilentMidUploadGets408AfterTheIdleTimeoutAndTheUpstreamIsClosed() throws Exception {
        fleet = new TestFleet().sim("alpha", b -> b).sim("beta", b -> b)
                .start(b -> b.maxBodyBytes(MAX_BODY).clientIdleTimeout(Duration.ofSeconds(1)));
        GeneratedBlob blob = new GeneratedBlob(64L * 1024 * 1024, 23);
        OllamaSimulator alpha = fleet.sim(0);
        try (Socket s = socket()) {
            startUpload(s, blob, 1024 * 1024, alpha);
            // The client neither sends more nor closes: the balancer must not hold the backend for it forever.
            String answer = readResponse(s);
            assertThat(answer).startsWith("HTTP/1.1 408").contains("{\"error\":\"timed out waiting for the request body\"}");
            assertThat(s.getInputStream().read()).as("connection closed after the 408").isEqualTo(-1);
        }
        await("the simulator saw its upload end").atMost(Duration.ofSeconds(5))
                .until(() -> alpha.counters().cancelled() == 1);
        assertThat(fleet.balancer().fleet().byName("alpha").outstanding().get()).isZero();
    }

    @Test
    void aClientStillSendingWhenTheBackendAnswersEarlyReadsTheAnswerNotAReset() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(32L * 1024 * 1024, 29);
        assertThat(upload(fleet.url(), blob.digest(), blob.withLength()).statusCode()).isEqualTo(201);
        // The backend has the blob: it answers 200 at once. This client keeps sending the body meanwhile, as real
        // clients do (they write the whole body before they read), and only then reads. (Over Linux loopback the
        // answer also survived the abrupt close used before LingeringCloseHandler; the reset it caused loses the
        // answer on other client stacks, so this checks the behaviour, not that difference.)
        try (Socket s = socket(); InputStream in = blob.open()) {
            OutputStream out = s.getOutputStream();
            writeHead(out, "POST", "/api/blobs/" + blob.digest(), blob.size());
            byte[] buf = new byte[256 * 1024];
            try {
                for (int i = 0; i < 16; i++) {
                    out.write(buf, 0, in.read(buf));
                }
            } catch (IOException writeRefused) {
                // The balancer shut its side and drained what it could: writing may fail late; reading must not.
            }
            String answer = readResponse(s);
            assertThat(answer).startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void aClientThatLeavesMidUploadClosesTheUpstreamAndTheBalancerCarriesOn() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(64L * 1024 * 1024, 19);
        OllamaSimulator alpha = fleet.sim(0);
        try (Socket s = socket()) {
            startUpload(s, blob, 8 * 1024 * 1024, alpha);
        }
        await("the simulator saw its upload end").atMost(Duration.ofSeconds(5))
                .until(() -> alpha.counters().cancelled() == 1);
        assertThat(alpha.hasBlob(blob.digest())).isFalse();

        GeneratedBlob small = new GeneratedBlob(2 * MAX_BODY, 20);
        assertThat(upload(fleet.url(), small.digest(), small.withLength()).statusCode()).isEqualTo(201);
        assertThat(Http.post(fleet.url() + "/api/generate",
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false}").statusCode()).isEqualTo(200);
    }

    @Test
    void aBackendThatDiesMidUploadGivesTheClientAnOllamaErrorAndACloseAndTheNextUploadWorks() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(64L * 1024 * 1024, 21);
        OllamaSimulator alpha = fleet.sim(0);
        try (Socket s = socket()) {
            startUpload(s, blob, 4 * 1024 * 1024, alpha);
            alpha.faults().refuseConnections(true);

            String answer = readResponse(s);
            assertThat(answer).startsWith("HTTP/1.1 502");
            assertThat(answer.toLowerCase(Locale.ROOT)).contains("connection: close");
            assertThat(answer).contains("{\"error\":\"backend 'alpha' failed: ");
            assertThat(s.getInputStream().read()).as("then the connection closes").isEqualTo(-1);
        }
        assertThat(alpha.hasBlob(blob.digest())).isFalse();

        GeneratedBlob next = new GeneratedBlob(2 * MAX_BODY, 22);
        HttpResponse<String> r = upload(fleet.url(), next.digest(), next.withLength(), "X-Ollama-Backend", "beta");
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(fleet.sim(1).hasBlob(next.digest())).isTrue();
    }

    @Test
    void aBlobTheBackendHasIsAnsweredAtOnceWithoutTheBody() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(4096, 23);
        assertThat(upload(fleet.url(), blob.digest(), blob.withLength()).statusCode()).isEqualTo(201);
        try (Socket s = socket()) {
            // Claims 1 GiB and sends only the head: the backend answers 200 without reading a byte.
            writeHead(s.getOutputStream(), "POST", "/api/blobs/" + blob.digest(), 1L << 30);
            String answer = readResponse(s);
            assertThat(answer).startsWith("HTTP/1.1 200");
            assertThat(answer.toLowerCase(Locale.ROOT)).contains("connection: close");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void anUploadPipelinedBehindAnotherRequestWaitsItsTurnAndSoDoesTheNext() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(3 * MAX_BODY, 24);
        byte[] generate = "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false}"
                .getBytes(StandardCharsets.UTF_8);
        try (Socket s = socket(); InputStream in = blob.open()) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + generate.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(generate);
            writeHead(out, "POST", "/api/blobs/" + blob.digest(), blob.size());
            in.transferTo(out);
            writeHead(out, "GET", "/api/version", -1);
            out.flush();

            assertThat(readResponse(s)).startsWith("HTTP/1.1 200").contains("\"done\":true");
            assertThat(readResponse(s)).startsWith("HTTP/1.1 201");
            assertThat(readResponse(s)).startsWith("HTTP/1.1 200").contains("\"version\"");
        }
        assertThat(fleet.sim(0).hasBlob(blob.digest())).isTrue();
    }

    @Test
    void expectContinueWithNoBackendToTakeTheBodyGetsAFinalAnswer() throws Exception {
        start();
        fleet.sim(0).faults().refuseConnections(true);
        try (Socket s = socket()) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /api/blobs/" + new GeneratedBlob(64, 25).digest() + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = readResponse(s);
            assertThat(answer).as("no 100 Continue first").startsWith("HTTP/1.1 502");
            assertThat(answer).contains("{\"error\":\"backend 'alpha' failed: ");
        }
    }

    @Test
    void aRefusedHeadPipelinedBehindARequestIsAnsweredAfterIt() throws Exception {
        start();
        try (Socket s = socket()) {
            OutputStream out = s.getOutputStream();
            String generate = "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false,"
                    + "\"options\":{\"num_predict\":20}}";
            // A generation that takes a while, and right behind it on the same connection a head over the limit.
            out.write(("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + generate.length()
                    + "\r\n\r\n" + generate + "GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX-Big: "
                    + "a".repeat(70_000) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String first = readResponse(s);
            assertThat(first).startsWith("HTTP/1.1 200").contains("\"done\":true");
            assertThat(readResponse(s)).startsWith("HTTP/1.1 431")
                    .contains("{\"error\":\"request header fields too large: the limit is 65536 bytes\"}");
        }
    }

    @Test
    void theHeaderLimitStillAppliesToUploads() throws Exception {
        start();
        GeneratedBlob blob = new GeneratedBlob(2 * MAX_BODY, 26);
        try (Socket s = socket()) {
            OutputStream out = s.getOutputStream();
            // The balancer's default --max-header is 64 KB.
            out.write(("POST /api/blobs/" + blob.digest() + " HTTP/1.1\r\nHost: localhost\r\nX-Big: "
                    + "a".repeat(70_000) + "\r\nContent-Length: " + blob.size() + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(readResponse(s)).startsWith("HTTP/1.1 431")
                    .contains("{\"error\":\"request header fields too large: the limit is 65536 bytes\"}");
        }
        assertThat(fleet.sim(0).counters().blobBytesReceived()).isZero();
    }

    @Test
    void anUploadStillRunningWhenTheShutdownGraceEndsGets503WithRetryAfterAndTheUpstreamIsClosed() throws Exception {
        fleet = new TestFleet().sim("alpha", b -> b).sim("beta", b -> b)
                .start(b -> b.maxBodyBytes(MAX_BODY).shutdownGrace(Duration.ofSeconds(1)));
        GeneratedBlob blob = new GeneratedBlob(64L * 1024 * 1024, 31);
        OllamaSimulator alpha = fleet.sim(0);
        try (Socket s = socket()) {
            startUpload(s, blob, 1024 * 1024, alpha);
            fleet.balancer().shutdown();
            String answer = readResponse(s);
            assertThat(answer).startsWith("HTTP/1.1 503").containsIgnoringCase("retry-after: 1")
                    .contains("{\"error\":\"the balancer is shutting down; retry the request\"}");
            assertThat(s.getInputStream().read()).as("connection closed after the 503").isEqualTo(-1);
        }
        await("the simulator saw its upload end").atMost(Duration.ofSeconds(5))
                .until(() -> alpha.counters().cancelled() == 1);
        assertThat(alpha.hasBlob(blob.digest())).isFalse();
        fleet.balancer().shutdown().get(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    private Socket socket() throws IOException {
        Socket s = new Socket("127.0.0.1", fleet.port());
        s.setSoTimeout(20_000);
        return s;
    }

    /** Sends the head and the first {@code bytes} of an upload, and waits until the backend has some of them. */
    private static void startUpload(Socket s, GeneratedBlob blob, int bytes, OllamaSimulator backend)
            throws IOException {
        OutputStream out = s.getOutputStream();
        writeHead(out, "POST", "/api/blobs/" + blob.digest(), blob.size());
        try (InputStream in = blob.open()) {
            out.write(in.readNBytes(bytes));
        }
        out.flush();
        await().atMost(Duration.ofSeconds(5)).until(() -> backend.counters().blobBytesReceived() > 0);
    }

    private static void writeHead(OutputStream out, String method, String path, long length) throws IOException {
        String head = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n"
                + (length >= 0 ? "Content-Length: " + length + "\r\n" : "") + "\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One response with a Content-Length body: head and body as text. */
    private static String readResponse(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed after: " + head);
            }
            head.append((char) c);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    private static double mibPerSecond(long bytes, long nanos) {
        return bytes / 1048576.0 / (nanos / 1e9);
    }
}

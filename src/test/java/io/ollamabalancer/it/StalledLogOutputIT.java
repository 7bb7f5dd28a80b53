package io.ollamabalancer.it;

import io.ollamabalancer.testing.Http;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The balancer keeps serving when its stdout stalls: {@code demo} runs in a JVM of its own with the shipped
 * {@code logback.xml} (access log on) and its stdout a pipe this test never reads, so the pipe is full after 64 KiB,
 * as with a container log driver that stopped reading. Thousands of requests, one access line each, must all be
 * answered, the lines that did not fit counted in {@code /metrics}, and SIGTERM must still end the process.
 */
class StalledLogOutputIT {
    private static final int REQUESTS = 3000;
    private static final int CLIENTS = 16;
    private static final String SMALL =
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1}}";
    private static final Pattern DROPPED = Pattern.compile("(?m)^ollama_balancer_log_lines_dropped_total (\\S+)$");

    private Process process;
    private Path dir;

    @AfterEach
    void kill() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void requestsNeverWaitForAStalledStdoutAndTheLostLinesAreCounted() throws Exception {
        int port = freePort();
        String base = "http://127.0.0.1:" + port;
        dir = Files.createTempDirectory("stalled-log-");
        URL shipped = StalledLogOutputIT.class.getResource("/logback.xml");
        assertThat(shipped).as("the production logging config on the class path").isNotNull();
        ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                // the test class path carries logback-test.xml, which would win over the shipped config
                "-Dlogback.configurationFile=" + Path.of(shipped.toURI()),
                "-cp", System.getProperty("java.class.path"), "io.ollamabalancer.cli.Main", "demo",
                "--port", String.valueOf(port), "--backends", "3")
                .directory(dir.toFile())
                .redirectError(dir.resolve("stderr.log").toFile()); // stdout stays a pipe that nobody reads
        pb.environment().put("LOG_LEVEL", "INFO");
        pb.environment().put("ACCESS_LOG_LEVEL", "INFO");
        pb.environment().put("ACCESS_LOG_FORMAT", "plain");
        pb.environment().put("LOG_QUEUE_SIZE", "256"); // small, so that a few thousand lines overflow it
        process = pb.start();
        awaitReady(base);

        AtomicInteger ok = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            done.add(clients.submit(() -> {
                for (int i = 0; i < REQUESTS / CLIENTS; i++) {
                    if (Http.post(base + "/api/generate", SMALL).statusCode() == 200) {
                        ok.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        clients.shutdown();
        // With a synchronous console appender the event loops stop in the first write to the full pipe (a few hundred
        // lines in) and no request is answered again.
        assertThat(clients.awaitTermination(90, TimeUnit.SECONDS))
                .as("%d requests answered within 90 s with stdout stalled (ok so far: %d)", REQUESTS, ok.get())
                .isTrue();
        for (Future<?> f : done) {
            f.get();
        }
        assertThat(ok.get()).isEqualTo(REQUESTS / CLIENTS * CLIENTS);

        HttpResponse<String> metrics = Http.get(base + "/metrics");
        Matcher m = DROPPED.matcher(metrics.body());
        assertThat(m.find()).as("dropped-lines counter in /metrics").isTrue();
        // at most a queue (256) and a pipe (64 KiB, well over 200 lines) of access lines can have been kept
        assertThat(Double.parseDouble(m.group(1))).isGreaterThan(REQUESTS - 1500);

        process.destroy();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("SIGTERM ends it although stdout is stalled").isTrue();
    }

    private void awaitReady(String base) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                if (Http.get(base + "/ready").statusCode() == 200) {
                    return;
                }
            } catch (IOException notListeningYet) {
                // the JVM is still starting
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("demo did not become ready (" + (process.isAlive() ? "running"
                        : "exit " + process.exitValue()) + "): " + Files.readString(dir.resolve("stderr.log")));
            }
            Thread.sleep(100);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

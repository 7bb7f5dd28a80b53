package io.ollamabalancer.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.cli.Cli;
import io.ollamabalancer.cli.CliContext;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Real sockets against two simulators on ephemeral loopback ports: a few short, fast streams per test. */
class LoadGeneratorTest {
    private static final String STREAM = "{\"model\":\"llama3.2:1b\",\"prompt\":\"p{{i}}\",\"options\":{\"num_predict\":10}}";
    private static OllamaSimulator a;
    private static OllamaSimulator b;

    @BeforeAll
    static void startSimulators() {
        SimulatorConfig.Builder fast = SimulatorConfig.builder().port(0).slots(4).decodeTokensPerSecond(500)
                .prefillTokensPerSecond(100_000).loadTimeMillis(0).decodeSlowdown(0).jitter(0)
                .meanOutputTokens(5000).maxOutputTokens(5000)
                .models(List.of(new SimModel("llama3.2:1b", 1_321_098_329L, "llama", "1.2B", "Q8_0", 0, true)));
        a = OllamaSimulator.start(fast.name("a").seed(1).build());
        b = OllamaSimulator.start(fast.name("b").seed(2).build());
    }

    @AfterAll
    static void stopSimulators() {
        a.close();
        b.close();
    }

    @BeforeEach
    void resetFaults() {
        a.faults().reset();
        b.faults().reset();
    }

    private static LoadgenConfig config(String body, int connections, int requests, int warmup, Duration timeout) {
        return new LoadgenConfig(List.of(URI.create(a.baseUrl()), URI.create(b.baseUrl())), "/api/generate",
                BodyTemplate.of(body), connections, requests, warmup, Duration.ZERO, Duration.ofMillis(20), timeout, 2);
    }

    @Test
    void streamsAreMeasuredChunkByChunkAndTheWarmUpApart() throws Exception {
        long servedBefore = a.counters().served() + b.counters().served();
        LoadReport r = LoadGenerator.run(config(STREAM, 4, 2, 1, Duration.ofSeconds(10)));

        LoadStats.Snapshot m = r.measured();
        assertThat(r.completedAll()).isTrue();
        assertThat(r.errors()).isZero();
        assertThat(m.started()).isEqualTo(8);
        assertThat(m.ok()).isEqualTo(8);
        // 10 tokens and the final done line per request, every one stamped with created_at.
        assertThat(m.chunks()).isEqualTo(8 * 11);
        assertThat(m.chunksWithoutCreatedAt()).isZero();
        assertThat(m.negativeDelays()).isZero();
        assertThat(m.ttft().getTotalCount()).isEqualTo(8);
        assertThat(m.chunkDelay().getTotalCount()).isEqualTo(88);
        assertThat(m.chunkGap().getTotalCount()).isEqualTo(80);
        assertThat(m.total().getTotalCount()).isEqualTo(8);
        assertThat(LatencySummary.ofMicros(m.total()).p50()).isGreaterThanOrEqualTo(LatencySummary.ofMicros(m.ttft()).p50());
        assertThat(r.warmup().ok()).isEqualTo(4);
        assertThat(a.counters().served() + b.counters().served() - servedBefore).isEqualTo(12);
    }

    @Test
    void aNonStreamingAnswerIsOneChunkWithoutTrailingNewline() throws Exception {
        LoadReport r = LoadGenerator.run(config(
                "{\"model\":\"llama3.2:1b\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":3}}",
                2, 2, 0, Duration.ofSeconds(10)));
        assertThat(r.measured().ok()).isEqualTo(4);
        assertThat(r.measured().chunks()).isEqualTo(4);
    }

    @Test
    void anUnknownModelCountsStatusErrorsOnAKeptAliveConnection() throws Exception {
        LoadReport r = LoadGenerator.run(config("{\"model\":\"nope\",\"prompt\":\"x\"}", 2, 3, 0,
                Duration.ofSeconds(10)));
        assertThat(r.measured().errors()).containsEntry(ErrorKind.STATUS, 6L);
        assertThat(r.measured().ok()).isZero();
        assertThat(r.measured().chunks()).isZero();
    }

    @Test
    void aBackendDyingMidStreamIsIncompleteAndTheConnectionReconnects() throws Exception {
        a.faults().crashAfterTokens(3);
        b.faults().crashAfterTokens(3);
        LoadReport r = LoadGenerator.run(config(STREAM, 2, 2, 0, Duration.ofSeconds(10)));
        assertThat(r.measured().errors()).containsEntry(ErrorKind.INCOMPLETE, 4L);
        assertThat(r.measured().started()).isEqualTo(4);
        assertThat(r.measured().chunks()).isEqualTo(4 * 3);
    }

    @Test
    void anErrorLineInTheStreamFailsTheRequest() throws Exception {
        a.faults().errorAfterTokens(2);
        b.faults().errorAfterTokens(2);
        LoadReport r = LoadGenerator.run(config(STREAM, 2, 1, 0, Duration.ofSeconds(10)));
        assertThat(r.measured().errors()).containsEntry(ErrorKind.ERROR_LINE, 2L);
    }

    @Test
    void aSlowStreamTimesOut() throws Exception {
        a.faults().speedFactor(0.01);
        b.faults().speedFactor(0.01);
        LoadReport r = LoadGenerator.run(config(STREAM, 2, 1, 0, Duration.ofMillis(200)));
        assertThat(r.measured().errors()).containsEntry(ErrorKind.TIMEOUT, 2L);
        assertThat(r.completedAll()).isTrue();
    }

    @Test
    void aClosedPortCountsOneConnectErrorPerRequest() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        LoadgenConfig c = new LoadgenConfig(List.of(URI.create("http://127.0.0.1:" + closed)), "/api/generate",
                BodyTemplate.of(STREAM), 2, 2, 0, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(5), 1);
        LoadReport r = LoadGenerator.run(c);
        assertThat(r.measured().errors()).containsEntry(ErrorKind.CONNECT, 4L);
        assertThat(r.measured().started()).isEqualTo(4);
    }

    @Test
    void aDurationAloneBoundsTheRun() throws Exception {
        LoadgenConfig c = new LoadgenConfig(List.of(URI.create(a.baseUrl())), "/api/generate", BodyTemplate.of(STREAM),
                2, 0, 0, Duration.ofMillis(300), Duration.ZERO, Duration.ofSeconds(5), 1);
        LoadReport r = LoadGenerator.run(c);
        assertThat(r.completedAll()).isTrue();
        assertThat(r.measured().ok()).isGreaterThanOrEqualTo(2).isEqualTo(r.measured().started());
    }

    @Test
    void theCommandWritesTheJsonSummary(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("report.json");
        int status = Cli.run(new String[] {"loadgen", "--target", a.baseUrl() + "," + b.baseUrl(), "-c", "2", "-n", "1",
            "--warmup", "1", "--body", STREAM, "--threads", "1", "--out", out.toString()}, CliContext.system());
        assertThat(status).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toFile());
        assertThat(json.get("connections").asInt()).isEqualTo(2);
        assertThat(json.at("/requests/ok").asLong()).isEqualTo(2);
        assertThat(json.at("/requests/errors").asLong()).isZero();
        assertThat(json.at("/chunks/count").asLong()).isEqualTo(22);
        assertThat(json.at("/warmup/ok").asLong()).isEqualTo(2);
        for (String h : List.of("ttftMs", "chunkDelayMs", "chunkGapMs", "totalMs")) {
            JsonNode s = json.get(h);
            assertThat(s.get("p50").asDouble()).as(h).isLessThanOrEqualTo(s.get("p99").asDouble());
            assertThat(s.get("p99").asDouble()).as(h).isLessThanOrEqualTo(s.get("max").asDouble());
        }
    }

    @Test
    void theJsonNamesEveryErrorKind() throws Exception {
        LoadReport r = LoadGenerator.run(config("{\"model\":\"nope\"}", 1, 1, 0, Duration.ofSeconds(5)));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ReportJson.write(r, buf);
        JsonNode json = new ObjectMapper().readTree(buf.toByteArray());
        for (ErrorKind k : ErrorKind.values()) {
            assertThat(json.at("/requests/errorsByKind/" + k.jsonName()).isNumber()).as(k.name()).isTrue();
        }
        assertThat(json.at("/requests/errorsByKind/status").asLong()).isEqualTo(1);
    }
}

package io.ollamabalancer.sim;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.ollamabalancer.sim.SimHttp.obj;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Cancellation and injected faults. */
class SimFaultsTest {
    private static final String LONG = "{\"model\":\"llama3.2:1b\",\"prompt\":\"long\",\"options\":{\"num_predict\":100000}}";
    private static final String SHORT = "{\"model\":\"llama3.2:1b\",\"prompt\":\"short\",\"stream\":false,"
            + "\"options\":{\"num_predict\":3}}";

    private OllamaSimulator sim;

    @BeforeEach
    void start() {
        sim = OllamaSimulator.start(SimulatorConfig.builder().name("faults").slots(1)
                .decodeTokensPerSecond(500).prefillTokensPerSecond(50_000)
                .meanOutputTokens(5000).maxOutputTokens(200_000).build());
    }

    @AfterEach
    void stop() {
        sim.close();
    }

    @Test
    void clientLeavingMidStreamIsCancelledAndFreesTheSlot() throws Exception {
        try (RawHttp http = new RawHttp(sim.port())) {
            http.send("POST", "/api/generate", LONG).readHead();
            http.nextChunk();
            http.nextChunk();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().cancelled() == 1);
        assertThat(sim.counters().activeGenerations()).isZero();
        long tokensAtCancel = sim.counters().tokensGenerated();
        assertThat(tokensAtCancel).isLessThan(1000);

        HttpResponse<String> next = SimHttp.post(sim, "/api/generate", SHORT);
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(sim.counters().served()).isEqualTo(1);
        assertThat(sim.counters().tokensGenerated()).isEqualTo(tokensAtCancel + 3);
    }

    @Test
    void clientLeavingWhileWaitingForASlotIsCancelledAndLeavesTheQueue() throws Exception {
        try (RawHttp holder = new RawHttp(sim.port())) {
            holder.send("POST", "/api/generate", LONG).readHead();
            try (RawHttp waiter = new RawHttp(sim.port())) {
                waiter.send("POST", "/api/generate", SHORT);
                await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().waiting() == 1);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().waiting() == 0);
            assertThat(sim.counters().cancelled()).isEqualTo(1);
            assertThat(sim.counters().activeGenerations()).isEqualTo(1);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().activeGenerations() == 0);
        assertThat(sim.counters().cancelled()).isEqualTo(2);
    }

    @Test
    void refusingConnectionsClosesTheListenerAndReopensOnTheSamePort() throws Exception {
        int port = sim.port();
        RawHttp pooled = new RawHttp(port);
        pooled.send("GET", "/api/version", null).read();

        sim.faults().refuseConnections(true);
        assertThat(sim.faults().refusingConnections()).isTrue();
        assertThatThrownBy(() -> connect(port)).isInstanceOf(ConnectException.class);
        assertThat(pooled.peerClosed()).as("open connections are dropped too").isTrue();
        pooled.close();

        sim.faults().refuseConnections(false);
        assertThat(sim.port()).isEqualTo(port);
        assertThat(SimHttp.get(sim, "/").body()).isEqualTo("Ollama is running");
    }

    @Test
    void refusingConnectionsOverHttpAnswersFirst() throws Exception {
        HttpResponse<String> res = SimHttp.post(sim, "/sim/faults", "{\"refuseConnections\":true}");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(obj(res.body()).get("refuseConnections")).isEqualTo(true);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThatThrownBy(() -> connect(sim.port())).isInstanceOf(ConnectException.class));
        sim.faults().reset();
        assertThat(SimHttp.get(sim, "/api/version").statusCode()).isEqualTo(200);
    }

    @Test
    void crashAfterTokensCutsTheConnectionWithoutFinalChunk() throws Exception {
        sim.faults().crashAfterTokens(3);
        List<String> chunks = new ArrayList<>();
        try (RawHttp http = new RawHttp(sim.port())) {
            http.send("POST", "/api/generate", LONG).readHead();
            assertThatThrownBy(() -> {
                for (String c = http.nextChunk(); c != null; c = http.nextChunk()) {
                    chunks.add(c);
                }
            }).isInstanceOf(EOFException.class);
        }
        assertThat(chunks).hasSize(3).allSatisfy(c -> assertThat(c).contains("\"done\":false"));
        await().atMost(Duration.ofSeconds(5)).until(() -> sim.counters().activeGenerations() == 0);
        assertThat(sim.counters().crashes()).isEqualTo(1);
        assertThat(sim.counters().served()).isZero();

        sim.faults().crashAfterTokens(0);
        assertThat(SimHttp.post(sim, "/api/generate", SHORT).statusCode()).isEqualTo(200);
    }

    @Test
    void errorAfterTokensEndsTheStreamWithAnErrorLine() throws Exception {
        sim.faults().errorAfterTokens(2);
        RawHttp.Response r;
        try (RawHttp http = new RawHttp(sim.port())) {
            r = http.send("POST", "/api/generate", LONG).read();
        }
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.terminated()).isTrue();
        assertThat(r.chunks()).hasSize(3);
        assertThat(r.chunks().get(2))
                .isEqualTo("{\"error\":\"an error was encountered while running the model: unexpected EOF\"}\n");

        HttpResponse<String> whole = SimHttp.post(sim, "/api/generate", SHORT);
        assertThat(whole.statusCode()).isEqualTo(500);
        assertThat(whole.body()).contains("unexpected EOF");
    }

    @Test
    void failNextWithIsOneShotAndLatencyDelaysTheFirstByte() throws Exception {
        sim.faults().failNextWith(503);
        assertThat(SimHttp.get(sim, "/api/tags").statusCode()).as("not an inference call").isEqualTo(200);
        HttpResponse<String> failed = SimHttp.post(sim, "/api/generate", SHORT);
        assertThat(failed.statusCode()).isEqualTo(503);
        assertThat(failed.body()).isEqualTo(
                "{\"error\":\"server busy, please try again.  maximum pending requests exceeded\"}");
        assertThat(SimHttp.post(sim, "/api/generate", SHORT).statusCode()).isEqualTo(200);

        sim.faults().extraLatencyMillis(150);
        long t0 = System.nanoTime();
        assertThat(SimHttp.get(sim, "/api/version").statusCode()).isEqualTo(200);
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(150_000_000L);
    }

    @Test
    void faultsAreSettableOverHttp() throws Exception {
        HttpResponse<String> set = SimHttp.post(sim, "/sim/faults",
                "{\"crashAfterTokens\":5,\"extraLatencyMillis\":100,\"failNextWith\":500,\"speedFactor\":0.5}");
        assertThat(set.statusCode()).isEqualTo(200);
        assertThat(sim.faults().crashAfterTokens()).isEqualTo(5);
        assertThat(sim.faults().extraLatencyMillis()).isEqualTo(100);
        assertThat(sim.faults().pendingFailure()).isEqualTo(500);
        assertThat(sim.faults().speedFactor()).isEqualTo(0.5);
        assertThat(obj(SimHttp.get(sim, "/sim/faults").body()).get("crashAfterTokens")).isEqualTo(5);

        assertThat(SimHttp.post(sim, "/sim/faults", "{\"crashAfterTokens\":\"x\"}").statusCode()).isEqualTo(400);
        assertThat(SimHttp.post(sim, "/sim/reset", "").statusCode()).isEqualTo(200);
        assertThat(sim.faults().crashAfterTokens()).isZero();
        assertThat(sim.faults().pendingFailure()).isZero();
        assertThat(sim.counters().requestsReceived()).as("/sim/ calls are not counted").isZero();
    }

    private static void connect(int port) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        }
    }
}

package io.ollamabalancer.it;

import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.RawClient;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A streamed answer through the balancer to a client that stops reading, over real sockets: the balancer stops
 * reading the backend (so the simulator, whose socket fills, pauses generating) instead of buffering the answer,
 * and once the client reads again it gets every chunk, in order. The relay flushes once per upstream read burst
 * ({@code ResponsePacer}); this is the end-to-end check that batching kept ordering and backpressure.
 */
class StreamBackpressureIT {
    private static final List<SimModel> ONE_MODEL = List.of(
            SimModel.completion("llama3.2:1b", 1_300_000_000L, "llama", "1.2B", "Q8_0", true));
    /** About 13 MB of NDJSON: more than every socket and write buffer on the way can hold. */
    private static final int TOKENS = 100_000;
    private static final Pattern CREATED_AT = Pattern.compile("\"created_at\":\"([^\"]+)\"");

    private TestFleet fleet;

    @AfterEach
    void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void aClientThatStopsReadingPausesTheBackendThenGetsEveryChunkInOrder() throws Exception {
        fleet = new TestFleet().sim("only", b -> b.models(ONE_MODEL).slots(1).decodeTokensPerSecond(1_000_000)
                .meanOutputTokens(TOKENS).maxOutputTokens(TOKENS)).start();
        try (RawClient c = new RawClient(fleet.port(), 4096)) {
            c.post("/api/generate", "{\"model\":\"llama3.2:1b\",\"prompt\":\"go\",\"options\":{\"num_predict\":"
                    + TOKENS + "}}");

            await().atMost(Duration.ofSeconds(20)).until(() -> fleet.sim(0).counters().writePauses() > 0);
            assertThat(fleet.sim(0).counters().activeGenerations()).as("the answer is held back").isEqualTo(1);
            assertThat(fleet.sim(0).counters().tokensGenerated()).as("not buffered whole").isLessThan(TOKENS);

            List<String> lines = ndjsonLines(new BufferedInputStream(c.input()));
            Instant previous = Instant.MIN;
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = CREATED_AT.matcher(lines.get(i));
                assertThat(m.find()).as("line %d: %s", i, lines.get(i)).isTrue();
                Instant at = Instant.parse(m.group(1));
                assertThat(at).as("line %d comes after the one before", i).isAfterOrEqualTo(previous);
                previous = at;
            }
            boolean done = !lines.isEmpty() && lines.get(lines.size() - 1).contains("\"done\":true");
            assertThat(done).as("the final chunk arrived").isTrue();
            assertThat(lines).as("every token's chunk and the final one").hasSize(TOKENS + 1);
        }
    }

    /** The body's lines: skips the head, undoes the chunked framing (chunks need not end at line ends). */
    private static List<String> ndjsonLines(InputStream in) throws IOException {
        while (!asciiLine(in).isEmpty()) {
            // response head
        }
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int size;
        while ((size = Integer.parseInt(asciiLine(in), 16)) > 0) {
            for (int i = 0; i < size; i++) {
                int b = in.read();
                assertThat(b).as("the body ended inside a chunk").isNotNegative();
                if (b == '\n') {
                    lines.add(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                } else {
                    line.write(b);
                }
            }
            asciiLine(in);
        }
        return lines;
    }

    private static String asciiLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != '\n') {
            assertThat(b).as("the connection ended mid-line").isNotNegative();
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }
}

package io.ollamabalancer.replay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TraceFileTest {
    @TempDir
    Path dir;

    @Test
    void aTraceSurvivesARoundTripExactly() throws IOException {
        Trace warm = TraceGenerator.generate("w", 4, ReplayFixtures.shape(5), new SimAnswers(7, 150, 2048));
        Trace t = TraceGenerator.generate("t", 3, ReplayFixtures.shape(50).withPriorities(0.2, 0.2),
                new SimAnswers(7, 150, 2048)).atRate("3:1:1 at 70%", 12.5).afterWarmup(warm, 1);
        Path f = dir.resolve("trace.json");
        TraceFile.write(t, f);
        assertThat(TraceFile.read(f)).isEqualTo(t);
    }

    @Test
    void outcomesSurviveARoundTrip() throws IOException {
        List<Outcome> os = List.of(new Outcome(0, "high", "fast", 0.5, 0.1, 0.02, null, 100, 110, 42),
                Outcome.failed(1, "low", 3.0, "HTTP 503 {\"error\":\"busy\"}"));
        Path f = dir.resolve("o.jsonl");
        OutcomeFile.write(os, f);
        assertThat(OutcomeFile.read(f)).isEqualTo(os);
    }

    @Test
    void aBrokenFileIsAnErrorNamingIt() throws IOException {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"requests\": [{\"id\": 0, \"route\": \"chat\"}]}");
        assertThatThrownBy(() -> TraceFile.read(f)).isInstanceOf(IOException.class)
                .hasMessageContaining("bad.json").hasMessageContaining("needs id, route, model and body");
    }
}

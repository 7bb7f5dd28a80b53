package io.ollamabalancer.replay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class OutcomeFileTest {
    @TempDir
    Path dir;

    @Test
    void modelLoadFiguresSurviveARoundTrip() throws Exception {
        List<Outcome> os = List.of(
                new Outcome(0, "normal", "fast", 9.1, 8.2, 0.5, null, 100, 110, 42, 0.01, 8.0025, 1),
                new Outcome(1, "high", "slow1", 0.4, 0.1, 0, null, 100, 110, 42, 0, 0.003, 0),
                new Outcome(2, "low", "slow2", 0.4, 0.1, 0, null, 100, 110, 42),
                Outcome.failed(3, "low", 3.0, "HTTP 503"));
        Path f = dir.resolve("o.jsonl");
        OutcomeFile.write(os, f);
        assertThat(Files.readString(f)).contains("\"loadSeconds\":8.0025,\"loadsStarted\":1");
        List<Outcome> back = OutcomeFile.read(f);
        assertThat(back).isEqualTo(os);
        assertThat(back.get(0).loadsStarted()).isEqualTo(1);
        assertThat(back.get(2).loadSeconds()).isEqualTo(-1);
        assertThat(back.get(2).loadsStarted()).isEqualTo(-1);
    }

    @Test
    void aFileWrittenBeforeTheLoadFieldsReadsThemAsUnknown() throws Exception {
        Path f = dir.resolve("old.jsonl");
        Files.writeString(f, "{\"id\":7,\"priority\":\"normal\",\"backend\":\"fast\",\"e2e\":0.5,\"ttft\":0.1,"
                + "\"queue\":0.02,\"error\":null,\"estimatedPromptTokens\":100,\"promptEvalCount\":110,"
                + "\"evalCount\":42,\"sendLag\":0.003}\n", StandardCharsets.UTF_8);
        Outcome o = OutcomeFile.read(f).get(0);
        assertThat(o).isEqualTo(new Outcome(7, "normal", "fast", 0.5, 0.1, 0.02, null, 100, 110, 42, 0.003));
        assertThat(o.loadSeconds()).isEqualTo(-1);
        assertThat(o.loadsStarted()).isEqualTo(-1);
    }

    @Test
    void theShorterConstructorsLeaveTheLoadFiguresUnknownAndCopiesKeepThem() {
        Outcome o = new Outcome(0, "normal", "a", 1, 1, 0, null, 1, 1, 1);
        assertThat(o.sendLag()).isZero();
        assertThat(o.loadSeconds()).isEqualTo(-1);
        assertThat(o.loadsStarted()).isEqualTo(-1);
        Outcome loaded = o.withLoad(8.0, 1).withSendLag(0.2);
        assertThat(loaded.loadSeconds()).isEqualTo(8.0);
        assertThat(loaded.loadsStarted()).isEqualTo(1);
        assertThat(loaded.sendLag()).isEqualTo(0.2);
    }
}

package io.ollamabalancer.loadgen;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StreamLineParserTest {

    private static StreamLine parse(String line) {
        byte[] framed = ("xx" + line + "yy").getBytes(StandardCharsets.UTF_8);
        return StreamLineParser.parse(framed, 2, line.getBytes(StandardCharsets.UTF_8).length);
    }

    private static long nanos(String t) {
        Instant i = Instant.parse(t);
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    @Test
    void aGenerateChunkGivesItsCreatedAtAndNotDone() {
        StreamLine l = parse("{\"model\":\"llama3.2:1b\",\"created_at\":\"2026-11-27T00:23:55.970678773Z\","
                + "\"response\":\"Writing\",\"done\":false}");
        assertThat(l).isEqualTo(new StreamLine(nanos("2026-11-27T00:23:55.970678773Z"), false, null));
    }

    @Test
    void theFinalChatChunkIsDoneAndNestedValuesAreSkipped() {
        StreamLine l = parse("{\"model\":\"m\",\"created_at\":\"2026-11-27T00:23:56.015677762Z\",\"message\":{\"role\":"
                + "\"assistant\",\"content\":\"\",\"done\":false,\"error\":\"nested\"},\"done\":true,"
                + "\"done_reason\":\"length\",\"context\":[1,2,[3]],\"total_duration\":73856125}");
        assertThat(l.done()).isTrue();
        assertThat(l.error()).isNull();
        assertThat(l.createdAtNanos()).isEqualTo(nanos("2026-11-27T00:23:56.015677762Z"));
    }

    @Test
    void anErrorLineHasItsMessageAndNoTime() {
        StreamLine l = parse("{\"error\":\"an error was encountered while running the model: unexpected EOF\"}");
        assertThat(l.error()).startsWith("an error was encountered");
        assertThat(l.hasCreatedAt()).isFalse();
        assertThat(l.done()).isFalse();
    }

    @Test
    void malformedLinesAreRejected() {
        assertThatThrownBy(() -> parse("[1,2]")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("{\"done\":tru")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("{\"created_at\":\"yesterday\"}")).isInstanceOf(IllegalArgumentException.class);
    }
}

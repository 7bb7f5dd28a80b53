package io.ollamabalancer.metrics;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ollamabalancer.estimate.TimingSample;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AccessLogTest {
    private final Logger logger = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private ch.qos.logback.classic.Level before;

    @BeforeEach
    void attach() {
        // The test logging config keeps the access log quiet; these tests need its INFO lines.
        before = logger.getLevel();
        logger.setLevel(ch.qos.logback.classic.Level.INFO);
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
        logger.setLevel(before);
    }

    private static CompletedRequest streamed() {
        return new CompletedRequest(42, "chat", "llama3.2:1b", "b1", 200, 1_234_567L, 250_000L, 98_765_432L,
                1_500_000_000L, new TimingSample(12, 1, 34, 1, 0, 2), 10, 30, Outcome.OK);
    }

    @Test
    void plainLineHasEveryField() {
        new AccessLog(AccessLog.Format.PLAIN).requestCompleted(streamed());
        assertThat(appender.list).hasSize(1);
        assertThat(appender.list.get(0).getFormattedMessage()).isEqualTo(
                "id=42 endpoint=chat model=llama3.2:1b backend=b1 status=200 queue_ms=1.234 ttft_ms=98.765 "
                        + "total_ms=1500.000 prompt_tokens=12 generated_tokens=34 outcome=ok");
    }

    @Test
    void theKeyNameComesLastAndOnlyWhenThereIsOne() throws Exception {
        CompletedRequest keyed = new CompletedRequest(43, "chat", "llama3.2:1b", "b1", 429, -1, -1, -1, 1_000_000L,
                TimingSample.EMPTY, 0, 0, Outcome.ERROR, "team a");
        AccessLog plain = new AccessLog(AccessLog.Format.PLAIN);
        plain.requestCompleted(keyed);
        plain.requestCompleted(streamed());
        assertThat(appender.list.get(0).getFormattedMessage()).isEqualTo(
                "id=43 endpoint=chat model=llama3.2:1b backend=b1 status=429 queue_ms=- ttft_ms=- total_ms=1.000 "
                        + "prompt_tokens=0 generated_tokens=0 outcome=error key=\"team a\"");
        assertThat(appender.list.get(1).getFormattedMessage()).doesNotContain("key=");
        new AccessLog(AccessLog.Format.JSON).requestCompleted(keyed);
        assertThat(JsonTree.object(appender.list.get(2).getFormattedMessage().getBytes()))
                .containsEntry("key", "team a").containsEntry("status", 429L);
    }

    @Test
    void plainLineQuotesAwkwardValuesAndDashesMissingStages() {
        new AccessLog(AccessLog.Format.PLAIN).requestCompleted(new CompletedRequest(7, "generate", "my \"model\"",
                "", 0, -1, 5_000L, -1, 20_000_000L, TimingSample.EMPTY, 0, 0, Outcome.CANCELLED));
        assertThat(appender.list.get(0).getFormattedMessage()).isEqualTo(
                "id=7 endpoint=generate model=\"my \\\"model\\\"\" backend=\"\" status=0 queue_ms=- ttft_ms=- "
                        + "total_ms=20.000 prompt_tokens=0 generated_tokens=0 outcome=cancelled");
    }

    @Test
    void jsonLineParses() throws Exception {
        AccessLog log = new AccessLog(AccessLog.Format.parse("json"));
        log.requestCompleted(streamed());
        log.requestCompleted(new CompletedRequest(8, "embed", "m", "b1", 502, -1, -1, -1, 3_000_000L, null, 0, 0,
                Outcome.UPSTREAM_FAILED));
        Map<String, Object> first = JsonTree.object(appender.list.get(0).getFormattedMessage().getBytes());
        assertThat(first).containsEntry("id", 42L).containsEntry("endpoint", "chat")
                .containsEntry("model", "llama3.2:1b").containsEntry("backend", "b1").containsEntry("status", 200L)
                .containsEntry("queue_ms", 1.234).containsEntry("ttft_ms", 98.765).containsEntry("total_ms", 1500.0)
                .containsEntry("prompt_tokens", 12L).containsEntry("generated_tokens", 34L)
                .containsEntry("outcome", "ok");
        Map<String, Object> second = JsonTree.object(appender.list.get(1).getFormattedMessage().getBytes());
        assertThat(second).containsEntry("queue_ms", null).containsEntry("ttft_ms", null)
                .containsEntry("total_ms", 3.0).containsEntry("generated_tokens", 0L)
                .containsEntry("outcome", "upstream_failed");
    }

    @Test
    void nothingIsFormattedWhenTheLoggerIsOff() {
        ch.qos.logback.classic.Level before = logger.getLevel();
        logger.setLevel(ch.qos.logback.classic.Level.OFF);
        try {
            new AccessLog(AccessLog.Format.PLAIN).requestCompleted(streamed());
            // formatting would read the request: with the logger off, not even a missing one is looked at
            new AccessLog(AccessLog.Format.PLAIN).requestCompleted(null);
            new AccessLog(AccessLog.Format.JSON).requestCompleted(null);
        } finally {
            logger.setLevel(before);
        }
        assertThat(appender.list).isEmpty();
    }
}

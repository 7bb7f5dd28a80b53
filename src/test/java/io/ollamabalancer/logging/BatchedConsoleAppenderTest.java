package io.ollamabalancer.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class BatchedConsoleAppenderTest {
    private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    private final Logger source = context.getLogger("batched-test");
    private final Sink sink = new Sink();
    private BatchedConsoleAppender<ILoggingEvent> console;
    private NonBlockingAppender async;

    /** Stands for stdout: keeps each write it is given as one string. */
    private static final class Sink extends PrintStream {
        final List<String> writes = new CopyOnWriteArrayList<>();

        Sink() {
            super(new ByteArrayOutputStream());
        }

        @Override
        public void write(byte[] b, int off, int len) {
            writes.add(new String(b, off, len, StandardCharsets.UTF_8));
        }
    }

    private BatchedConsoleAppender<ILoggingEvent> console(boolean immediateFlush) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        console = new BatchedConsoleAppender<>();
        console.setContext(context);
        console.setName("batched");
        console.setEncoder(encoder);
        console.setImmediateFlush(immediateFlush);
        console.setSink(() -> sink);
        console.start();
        return console;
    }

    private LoggingEvent event(String message) {
        return new LoggingEvent(Logger.FQCN, source, Level.INFO, message, null, null);
    }

    @AfterEach
    void stop() {
        if (async != null) {
            async.stop();
        }
        if (console != null) {
            console.stop();
        }
    }

    @Test
    void withImmediateFlushEachLineIsWrittenAtOnce() {
        console(true);
        console.doAppend(event("one"));
        console.doAppend(event("two"));
        assertThat(sink.writes).containsExactly("one\n", "two\n");
    }

    @Test
    void withoutImmediateFlushLinesWaitForTheFlushThenGoOutInOneWrite() throws Exception {
        console(false);
        console.doAppend(event("one"));
        console.doAppend(event("two"));
        assertThat(sink.writes).isEmpty();
        console.getOutputStream().flush();
        assertThat(sink.writes).containsExactly("one\ntwo\n");
        console.getOutputStream().flush();
        assertThat(sink.writes).hasSize(1);
    }

    @Test
    void pendingLinesAreWrittenOnStopAndPastTheBound() {
        console(false);
        String line = "x".repeat(1023);
        int lines = BatchedConsoleAppender.FLUSH_AT / 1024;
        for (int i = 0; i < lines; i++) {
            console.doAppend(event(line));
        }
        assertThat(sink.writes).hasSize(1); // the bound was reached by the last line: written without a flush
        console.doAppend(event("last"));
        console.stop();
        assertThat(String.join("", sink.writes)).isEqualTo((line + "\n").repeat(lines) + "last\n");
    }

    @Test
    void theNonBlockingAppenderFlushesItAfterEachBatch() {
        console(false);
        async = new NonBlockingAppender();
        async.setContext(context);
        async.setName("async-batched");
        async.addAppender(console);
        async.start();
        for (int i = 0; i < 10; i++) {
            async.doAppend(event("line " + i));
        }
        StringBuilder want = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            want.append("line ").append(i).append('\n');
        }
        await().until(() -> String.join("", sink.writes).contentEquals(want));
        assertThat(sink.writes.size()).isLessThanOrEqualTo(10);
    }
}

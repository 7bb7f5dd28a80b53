package io.ollamabalancer.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class NonBlockingAppenderTest {
    private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    private final Logger source = context.getLogger("nonblocking-test");
    private final AtomicLong now = new AtomicLong();
    private final DroppedLines drops = new DroppedLines(now::get, TimeUnit.MINUTES.toNanos(1));
    private final Output output = new Output();
    private NonBlockingAppender appender;

    /** The attached appender: records what it is given; {@link #stall()} makes it wait, as a full pipe would. */
    private static final class Output extends AppenderBase<ILoggingEvent> {
        final List<String> lines = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        final CountDownLatch stalled = new CountDownLatch(1);
        volatile CountDownLatch release = new CountDownLatch(0);

        void stall() {
            release = new CountDownLatch(1);
        }

        @Override
        protected void append(ILoggingEvent e) {
            CountDownLatch r = release;
            if (r.getCount() > 0) {
                stalled.countDown();
                try {
                    r.await();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
            lines.add(e.getLevel() + " " + e.getFormattedMessage());
            threads.add(e.getThreadName());
        }
    }

    private NonBlockingAppender start(int queueSize, int discardingThreshold) {
        return start(queueSize, discardingThreshold, false);
    }

    private NonBlockingAppender start(int queueSize, int discardingThreshold, boolean deferredFormatting) {
        output.setContext(context);
        output.start();
        appender = new NonBlockingAppender();
        appender.setContext(context);
        appender.setName("test");
        appender.setQueueSize(queueSize);
        appender.setDiscardingThreshold(discardingThreshold);
        appender.setDrops(drops);
        appender.setDeferredFormatting(deferredFormatting);
        appender.addAppender(output);
        appender.start();
        assertThat(appender.isStarted()).isTrue();
        return appender;
    }

    private void log(Level level, String message) {
        appender.doAppend(new LoggingEvent(Logger.FQCN, source, level, message, null, null));
    }

    /** Makes the writer take one line and hang in the output with it, so the queue is ours to fill. */
    private void stallTheWriter() throws InterruptedException {
        output.stall();
        log(Level.INFO, "stuck");
        assertThat(output.stalled.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @AfterEach
    void stop() {
        output.release.countDown();
        if (appender != null) {
            appender.stop();
        }
    }

    @Test
    void writesEveryLineInOrderAndStopWritesOutWhatIsQueued() {
        start(2048, -1);
        for (int i = 0; i < 1000; i++) {
            log(Level.INFO, "line " + i);
        }
        appender.stop();
        assertThat(output.lines).hasSize(1000);
        for (int i = 0; i < 1000; i++) {
            assertThat(output.lines.get(i)).isEqualTo("INFO line " + i);
        }
        assertThat(drops.total()).isZero();
        assertThat(output.isStarted()).as("stopping the queue stops the output it feeds").isFalse();
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfWaiting() throws InterruptedException {
        start(4, 0);
        stallTheWriter();
        for (int i = 0; i < 7; i++) {
            log(Level.INFO, "line " + i); // returns at once even though the output is stuck
        }
        assertThat(drops.total()).isEqualTo(3);
        output.release.countDown();
        appender.stop();
        assertThat(output.lines).containsExactly("INFO stuck", "INFO line 0", "INFO line 1", "INFO line 2",
                "INFO line 3");
    }

    @Test
    void infoLeavesTheLastPlacesToWarningsAndErrors() throws InterruptedException {
        start(10, 4);
        stallTheWriter();
        for (int i = 0; i < 8; i++) {
            log(Level.INFO, "info " + i);
        }
        // INFO is taken while at least 4 places are left: 7 of 8 (after 7 queued, 3 are left)
        assertThat(drops.total()).isEqualTo(1);
        log(Level.WARN, "warn");
        log(Level.ERROR, "error");
        log(Level.ERROR, "error too");
        assertThat(drops.total()).isEqualTo(1);
        log(Level.ERROR, "no room");
        assertThat(drops.total()).isEqualTo(2);
        output.release.countDown();
        appender.stop();
        assertThat(output.lines).hasSize(11).contains("WARN warn", "ERROR error", "ERROR error too");
    }

    @Test
    void theWriterSaysHowManyLinesWereDroppedOnceTheIntervalIsOver() throws InterruptedException {
        Logger own = context.getLogger(NonBlockingAppender.class);
        Output warnings = new Output();
        warnings.setContext(context);
        warnings.start();
        own.addAppender(warnings);
        try {
            start(1, 0);
            stallTheWriter();
            log(Level.INFO, "queued");
            log(Level.INFO, "dropped 1");
            log(Level.INFO, "dropped 2");
            now.addAndGet(TimeUnit.MINUTES.toNanos(1));
            output.release.countDown();
            appender.stop(); // the writer reports after its next batch, before it ends
            assertThat(warnings.lines).singleElement().asString()
                    .startsWith("WARN 2 log lines dropped since the last report").contains("2 in all");
        } finally {
            own.detachAppender(warnings);
        }
    }

    /** An argument that says on which thread it was turned into text. */
    private static final Object WHERE_FORMATTED = new Object() {
        @Override
        public String toString() {
            return "formatted on " + Thread.currentThread().getName();
        }
    };

    private void logWhereFormatted() {
        appender.doAppend(new LoggingEvent(Logger.FQCN, source, Level.INFO, "{}", null,
                new Object[] {WHERE_FORMATTED}));
    }

    @Test
    void withDeferredFormattingTheWriterFormatsTheMessageAndTheThreadNameStaysTheCallers() {
        start(16, -1, true);
        logWhereFormatted();
        appender.stop();
        assertThat(output.lines).containsExactly("INFO formatted on log-writer-test");
        assertThat(output.threads).containsExactly(Thread.currentThread().getName());
    }

    @Test
    void byDefaultTheCallerFormatsTheMessage() {
        start(16, -1);
        logWhereFormatted();
        appender.stop();
        assertThat(output.lines).containsExactly("INFO formatted on " + Thread.currentThread().getName());
        assertThat(output.threads).containsExactly(Thread.currentThread().getName());
    }
}

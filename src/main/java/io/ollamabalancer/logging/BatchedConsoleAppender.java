package io.ollamabalancer.logging;

import ch.qos.logback.core.OutputStreamAppender;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * A console appender whose lines reach stdout in one write per batch instead of one per line: the encoded lines
 * are kept in memory until the stream is flushed, then handed to {@code System.out} (as it is at that moment, as
 * logback's {@code ConsoleAppender} does) in a single {@code write}. With {@code immediateFlush} true (logback's
 * default) it flushes after every line, as the console appender does; with it false, whoever drives it must flush:
 * {@link NonBlockingAppender} does after each batch it drained, so a line appears at most one batch late.
 *
 * <p>Why: a line per {@code write(2)} was about 7 µs of the balancer's CPU per request at one connection (the log
 * writer thread's share, issue #11); {@code System.out} flushes every write it is given, so logback's console
 * appender cannot batch, even with {@code immediateFlush} off.
 *
 * <p>Threading: logback's {@code OutputStreamAppender} serialises appends on its lock; {@link NonBlockingAppender}
 * appends and flushes from its writer thread only. Memory: the pending bytes of one batch, at most
 * {@value #FLUSH_AT} bytes before it writes them out anyway; the buffer keeps its largest size.
 */
public final class BatchedConsoleAppender<E> extends OutputStreamAppender<E> {
    /** Pending bytes that are written out at once, flush or not: a burst of long lines stays bounded. */
    static final int FLUSH_AT = 64 * 1024;

    private Supplier<PrintStream> sink = () -> System.out;

    /** Where the lines go instead of {@code System.out} (tests); set before start. */
    void setSink(Supplier<PrintStream> sink) {
        this.sink = sink;
    }

    @Override
    public void start() {
        setOutputStream(new Pending(sink));
        super.start();
    }

    /** The lines since the last flush; flushing writes them to {@code System.out} in one call. */
    private static final class Pending extends ByteArrayOutputStream {
        private final Supplier<PrintStream> sink;

        Pending(Supplier<PrintStream> sink) {
            super(8 * 1024);
            this.sink = sink;
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            super.write(b, off, len);
            if (count >= FLUSH_AT) {
                flush();
            }
        }

        @Override
        public synchronized void flush() {
            if (count == 0) {
                return;
            }
            PrintStream out = sink.get();
            out.write(buf, 0, count);
            out.flush();
            reset();
        }

        @Override
        public void close() {
            flush(); // stdout itself stays open: others write to it too
        }
    }
}

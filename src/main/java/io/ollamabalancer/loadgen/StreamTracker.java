package io.ollamabalancer.loadgen;

/**
 * What one request measures, from the moment it is written to its last byte: status, time to first token,
 * each line's delivery delay ({@code arrival wall clock − created_at}) and gap to the previous line, the total, and
 * exactly one outcome (ok, or the first {@link ErrorKind} seen). Confined to its connection's event loop; holds no
 * buffers (lines are parsed from the splitter's array during the call).
 */
final class StreamTracker {
    private static final int OK = 200;

    private final LoadStats stats;
    private final long startNanos;
    private int status;
    private boolean seenLine;
    private long lastArrival;
    private boolean done;
    private boolean failed;
    private boolean finished;

    /** Starts a request that was written at {@code startNanos} ({@link LoadClock#nanoTime()}). */
    StreamTracker(LoadStats stats, long startNanos) {
        this.stats = stats;
        this.startNanos = startNanos;
        stats.requestStarted(startNanos);
    }

    void status(int code, long nanos) {
        status = code;
        if (code != OK) {
            fail(ErrorKind.STATUS, nanos);
        }
    }

    /** One complete line that arrived at {@code nanos} (monotonic) / {@code wallNanos} (epoch). */
    void line(byte[] bytes, int offset, int length, long nanos, long wallNanos) {
        if (finished || status != OK) {
            return;
        }
        StreamLine line;
        try {
            line = StreamLineParser.parse(bytes, offset, length);
        } catch (IllegalArgumentException e) {
            fail(ErrorKind.BAD_LINE, nanos);
            return;
        }
        if (!seenLine) {
            seenLine = true;
            stats.firstChunk(nanos - startNanos);
        } else {
            stats.gap(nanos - lastArrival);
        }
        lastArrival = nanos;
        stats.chunk(line.hasCreatedAt(), line.hasCreatedAt() ? wallNanos - line.createdAtNanos() : 0);
        if (line.error() != null) {
            fail(ErrorKind.ERROR_LINE, nanos);
        }
        if (line.done()) {
            done = true;
        }
    }

    /** The response ended normally; returns whether the request succeeded. */
    boolean end(long nanos) {
        if (finished) {
            return !failed;
        }
        if (!done) {
            fail(ErrorKind.INCOMPLETE, nanos);
        }
        finished = true;
        if (!failed) {
            stats.completed(nanos - startNanos, nanos);
        }
        return !failed;
    }

    /** The request ends without a normal end of response (connection lost, timeout, stopped). */
    void abort(ErrorKind kind, long nanos) {
        if (finished) {
            return;
        }
        fail(kind, nanos);
        finished = true;
    }

    boolean finished() {
        return finished;
    }

    private void fail(ErrorKind kind, long nanos) {
        if (!failed) {
            failed = true;
            stats.failed(kind, nanos);
        }
    }
}

package io.ollamabalancer.sim;

import io.netty.util.concurrent.ScheduledFuture;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Streams a progress answer ({@code /api/pull}, {@code /api/create}): one flushed NDJSON line every
 * {@value #STEP_MILLIS} ms (or the pace given), the last line ending the response. Ollama's progress objects are
 * {@link #status}; a failed operation ends with an {@code {"error":…}} line inside the 200. Without streaming the
 * same steps take the same time and nothing is written until the end, when a given action answers (as Ollama
 * answers a {@code stream:false} pull once it is done). One per request; confined to the event loop.
 */
final class ProgressStream implements SimExchange.Active {
    static final long STEP_MILLIS = 5;

    private final SimExchange x;
    private final List<JsonOut.Body> steps;
    private final Runnable beforeLast;
    private final long stepMillis;
    private final Runnable quietEnd;
    private final StreamWriter out;
    private ScheduledFuture<?> timer;
    private int next;
    private boolean finished;

    /**
     * @param steps      the lines, in order (at least one)
     * @param beforeLast runs just before the last line is written (the operation takes effect), not if cancelled
     */
    ProgressStream(SimExchange x, List<JsonOut.Body> steps, Runnable beforeLast) {
        this(x, steps, beforeLast, STEP_MILLIS, null);
    }

    /**
     * @param stepMillis the pause between two lines
     * @param quietEnd   null to stream every line; otherwise nothing is written and this answers after the last
     *                   step (after {@code beforeLast})
     */
    ProgressStream(SimExchange x, List<JsonOut.Body> steps, Runnable beforeLast, long stepMillis, Runnable quietEnd) {
        this.x = x;
        this.steps = steps;
        this.beforeLast = beforeLast;
        this.stepMillis = stepMillis;
        this.quietEnd = quietEnd;
        this.out = quietEnd == null ? x.stream(SimExchange.NDJSON) : null;
    }

    void start() {
        x.active(this);
        step();
    }

    private void step() {
        timer = null;
        JsonOut.Body line = steps.get(next++);
        if (next == steps.size()) {
            finished = true;
            beforeLast.run();
            if (quietEnd != null) {
                quietEnd.run();
            } else {
                x.endStream(out, JsonOut.render(x.alloc(), "", line, "\n"));
            }
            return;
        }
        if (out != null) {
            out.chunk(JsonOut.render(x.alloc(), "", line, "\n"));
        }
        timer = x.sim().loop().schedule(this::step, stepMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void cancel() {
        if (!finished) {
            finished = true;
            if (timer != null) {
                timer.cancel(false);
            }
            x.cancelled();
        }
    }

    /** Ollama's {@code ProgressResponse}: status, then digest, total and completed when non-zero. */
    static JsonOut.Body status(String status, String digest, long total, long completed) {
        return g -> {
            g.writeStartObject();
            g.writeStringField("status", status);
            if (digest != null) {
                g.writeStringField("digest", digest);
            }
            if (total != 0) {
                g.writeNumberField("total", total);
            }
            if (completed != 0) {
                g.writeNumberField("completed", completed);
            }
            g.writeEndObject();
        };
    }

    /** {@code {"status":…}} alone. */
    static JsonOut.Body status(String status) {
        return status(status, null, 0, 0);
    }
}

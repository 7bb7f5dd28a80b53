package io.ollamabalancer.sim;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runtime fault switches of one simulator. Thread-safe; setters return {@code this} for chaining and take effect for
 * requests that reach the affected step afterwards. The same switches are reachable over HTTP with
 * {@code POST /sim/faults}, e.g. {@code {"refuseConnections":false,"crashAfterTokens":5,"extraLatencyMillis":100}}.
 *
 * <p>"Inference requests" below means generate, chat, embed, legacy embeddings and the three {@code /v1} model calls.
 */
public final class SimFaults {
    /** Opens or closes the listening socket; supplied by {@link OllamaSimulator}. */
    interface Listener {
        void accepting(boolean accept);
    }

    private volatile Listener listener;
    private volatile boolean refusing;
    private volatile int crashAfterTokens;
    private volatile int errorAfterTokens;
    private volatile long extraLatencyMillis;
    private volatile double speedFactor = 1.0;
    private volatile long uploadBytesPerSecond;
    private volatile int stallAfterTokens;
    private volatile boolean stallBeforeHead;
    private volatile long pullStepMillis;
    private volatile int failPullAfterSteps;
    private final AtomicInteger failNextWith = new AtomicInteger();
    private final AtomicInteger dropOnReused = new AtomicInteger();

    SimFaults() {
    }

    void attach(Listener l) {
        listener = l;
    }

    /**
     * {@code true} closes the listening socket and every open connection, so new connects fail with "connection
     * refused" and pooled connections die, as if the server process were gone. {@code false} listens again on the
     * same port. When called off the simulator's event loop this returns once the socket is closed or bound.
     *
     * @throws IllegalStateException if the port cannot be bound again
     */
    public SimFaults refuseConnections(boolean refuse) {
        refusing = refuse;
        Listener l = listener;
        if (l != null) {
            l.accepting(!refuse);
        }
        return this;
    }

    public boolean refusingConnections() {
        return refusing;
    }

    /**
     * After {@code n} tokens of a generation, close the connection without a final chunk or chunked terminator (a
     * non-streaming request gets no answer at all). 0 or negative switches it off. Stays on until switched off.
     */
    public SimFaults crashAfterTokens(int n) {
        crashAfterTokens = Math.max(0, n);
        return this;
    }

    public int crashAfterTokens() {
        return crashAfterTokens;
    }

    /**
     * After {@code n} tokens, end the stream with Ollama's mid-stream error line
     * {@code {"error":"an error was encountered while running the model: unexpected EOF"}} instead of
     * {@code done:true} (a non-streaming request gets it as a 500). 0 or negative switches it off.
     */
    public SimFaults errorAfterTokens(int n) {
        errorAfterTokens = Math.max(0, n);
        return this;
    }

    public int errorAfterTokens() {
        return errorAfterTokens;
    }

    /**
     * After {@code n} tokens of a generation, send nothing more and hold the connection open, as a hung GPU or a
     * wedged runner does: the generation keeps its slot until the client leaves. A non-streaming request then never
     * gets its head. 0 or negative switches it off.
     */
    public SimFaults stallAfterTokens(int n) {
        stallAfterTokens = Math.max(0, n);
        return this;
    }

    public int stallAfterTokens() {
        return stallAfterTokens;
    }

    /**
     * {@code true}: accept inference requests and never answer them, not even a status line, holding the connection
     * open until the client leaves. Stays on until switched off.
     */
    public SimFaults stallBeforeHead(boolean stall) {
        stallBeforeHead = stall;
        return this;
    }

    public boolean stallBeforeHead() {
        return stallBeforeHead;
    }

    /** Delay before anything is done with each Ollama API request (so before its first byte). 0 switches it off. */
    public SimFaults extraLatencyMillis(long millis) {
        extraLatencyMillis = Math.max(0, millis);
        return this;
    }

    public long extraLatencyMillis() {
        return extraLatencyMillis;
    }

    /**
     * Answer the next inference request with this status before any work ({@code 503} uses the exact "server busy"
     * text, {@code 500} a runner failure text, {@code 404} the model-not-found text). One-shot; 0 clears it.
     */
    public SimFaults failNextWith(int status) {
        if (status != 0 && (status < 400 || status > 599)) {
            throw new IllegalArgumentException("failNextWith needs a 4xx/5xx status: " + status);
        }
        failNextWith.set(status);
        return this;
    }

    /** The pending one-shot failure status, 0 if none. */
    public int pendingFailure() {
        return failNextWith.get();
    }

    /**
     * Multiplies prefill and decode speed from now on (0.5 = half as fast), e.g. to turn one backend of a fleet into a
     * slow one mid-test. Must be > 0; 1 is normal.
     */
    public SimFaults speedFactor(double factor) {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("speedFactor must be > 0: " + factor);
        }
        speedFactor = factor;
        return this;
    }

    public double speedFactor() {
        return speedFactor;
    }

    /**
     * Reads blob uploads ({@code POST /api/blobs/:digest}) no faster than this, as a server writing to a slow disk
     * would: a client, or a proxy, must then hold back. 0 or negative reads as fast as the bytes come.
     */
    public SimFaults uploadBytesPerSecond(long rate) {
        uploadBytesPerSecond = Math.max(0, rate);
        return this;
    }

    public long uploadBytesPerSecond() {
        return uploadBytesPerSecond;
    }

    /**
     * The pace of {@code /api/pull}: one progress step every this many ms (a slow registry), instead of
     * {@value ProgressStream#STEP_MILLIS}. 0 or negative restores the default.
     */
    public SimFaults pullStepMillis(long millis) {
        pullStepMillis = Math.max(0, millis);
        return this;
    }

    /** The pace of a pull's progress steps in ms. */
    public long pullStepMillis() {
        long v = pullStepMillis;
        return v > 0 ? v : ProgressStream.STEP_MILLIS;
    }

    /**
     * After {@code n} layer-progress lines, a pull fails as a download that lost its connection does in Ollama:
     * {@code {"error":"max retries exceeded: unexpected EOF"}} ends the stream (a 500 without streaming), and nothing
     * is installed. 0 or negative switches it off. Stays on until switched off.
     */
    public SimFaults failPullAfterSteps(int n) {
        failPullAfterSteps = Math.max(0, n);
        return this;
    }

    public int failPullAfterSteps() {
        return failPullAfterSteps;
    }

    /** Switches every fault off and listens again if connections were being refused. */
    public SimFaults reset() {
        crashAfterTokens = 0;
        errorAfterTokens = 0;
        extraLatencyMillis = 0;
        speedFactor = 1.0;
        uploadBytesPerSecond = 0;
        stallAfterTokens = 0;
        stallBeforeHead = false;
        dropOnReused.set(0);
        pullStepMillis = 0;
        failPullAfterSteps = 0;
        failNextWith.set(0);
        if (refusing) {
            refuseConnections(false);
        }
        return this;
    }

    /**
     * The next {@code n} requests that arrive on a connection which already served one are met with a close and no
     * answer: exactly what a proxy sees when the server closed a keep-alive connection for idleness just as the
     * request was sent. The request is never processed. 0 clears it.
     */
    public SimFaults dropOnReusedConnection(int n) {
        dropOnReused.set(Math.max(0, n));
        return this;
    }

    /** Takes one pending drop for a request on a reused connection; false when none is pending. */
    boolean takeReusedDrop() {
        return dropOnReused.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
    }

    /** Takes the one-shot failure, if any; 0 otherwise. */
    int takeFailure() {
        return failNextWith.getAndSet(0);
    }

    /** The switches as JSON, the body of {@code GET /sim/faults}. */
    public String toJson() {
        return JsonOut.toJsonString(g -> {
            g.writeStartObject();
            g.writeBooleanField("refuseConnections", refusing);
            g.writeNumberField("crashAfterTokens", crashAfterTokens);
            g.writeNumberField("errorAfterTokens", errorAfterTokens);
            g.writeNumberField("extraLatencyMillis", extraLatencyMillis);
            g.writeNumberField("failNextWith", failNextWith.get());
            g.writeNumberField("speedFactor", speedFactor);
            g.writeNumberField("uploadBytesPerSecond", uploadBytesPerSecond);
            g.writeNumberField("stallAfterTokens", stallAfterTokens);
            g.writeBooleanField("stallBeforeHead", stallBeforeHead);
            g.writeNumberField("dropOnReusedConnection", dropOnReused.get());
            g.writeNumberField("pullStepMillis", pullStepMillis);
            g.writeNumberField("failPullAfterSteps", failPullAfterSteps);
            g.writeEndObject();
        });
    }

    @Override
    public String toString() {
        return toJson();
    }
}

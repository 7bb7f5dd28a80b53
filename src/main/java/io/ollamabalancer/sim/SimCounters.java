package io.ollamabalancer.sim;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one simulator has seen since start or the last {@link #reset()}. Thread-safe: the simulator's event loop
 * updates it, any thread may read it. Control requests under {@code /sim/} are not counted.
 *
 * <p>A request ends in exactly one of: served (a complete 2xx answer), cancelled (the client left while it waited
 * or streamed), crashed (an injected cut or mid-stream error), or an error status (404 and 503 are counted
 * separately). An answer is counted just before its last bytes are written, so a client that has read it sees it
 * counted. {@link #reset()} is not atomic against concurrent updates; call it while the simulator is quiet.
 */
public final class SimCounters {
    private final LongAdder requestsReceived = new LongAdder();
    private final LongAdder served = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final LongAdder rejected503 = new LongAdder();
    private final LongAdder notFound404 = new LongAdder();
    private final LongAdder tokensGenerated = new LongAdder();
    private final LongAdder connectionsAccepted = new LongAdder();
    private final LongAdder crashes = new LongAdder();
    private final LongAdder idleCloses = new LongAdder();
    private final LongAdder loads = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder blobsStored = new LongAdder();
    private final LongAdder blobBytesStored = new LongAdder();
    private final LongAdder blobBytesReceived = new LongAdder();
    private final LongAdder writePauses = new LongAdder();
    private final LongAdder pulls = new LongAdder();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();

    SimCounters() {
    }

    /** Ollama API requests received (every method and path outside {@code /sim/}). */
    public long requestsReceived() {
        return requestsReceived.sum();
    }

    /** Requests answered completely with a 2xx status (streams: the final chunk was written). */
    public long served() {
        return served.sum();
    }

    /** Requests the client abandoned: disconnected while waiting for a slot, loading, prefilling or streaming. */
    public long cancelled() {
        return cancelled.sum();
    }

    /** Requests answered 503 (slot queue full, or an injected 503). */
    public long rejected503() {
        return rejected503.sum();
    }

    /** Requests answered 404 (unknown model or path). */
    public long notFound404() {
        return notFound404.sum();
    }

    /**
     * Requests cut on purpose: the connection closed by {@link SimFaults#crashAfterTokens(int)}, or the stream ended
     * with an error line by {@link SimFaults#errorAfterTokens(int)}.
     */
    public long crashes() {
        return crashes.sum();
    }

    /** Tokens emitted by all generations, including ones later cancelled. */
    public long tokensGenerated() {
        return tokensGenerated.sum();
    }

    /** Model loads completed (cold starts, reloads after an unload); models loaded at start are not counted. */
    public long loads() {
        return loads.sum();
    }

    /**
     * Runners unloaded to make room for another model (memory limits); unloads by {@code keep_alive} expiry or
     * {@code keep_alive:0} are not counted.
     */
    public long evictions() {
        return evictions.sum();
    }

    /** Blobs stored by {@code POST /api/blobs/:digest} (the body hashed to its digest). */
    public long blobsStored() {
        return blobsStored.sum();
    }

    /** The bytes of the blobs stored (uploads that failed or were cut off are not counted). */
    public long blobBytesStored() {
        return blobBytesStored.sum();
    }

    /** Body bytes of blob uploads received so far, whether or not the upload finished. */
    public long blobBytesReceived() {
        return blobBytesReceived.sum();
    }

    /** TCP connections accepted; with a pooling client this stays small. */
    public long connectionsAccepted() {
        return connectionsAccepted.sum();
    }

    /** Keep-alive connections closed for sitting idle ({@code idleTimeoutMillis}). */
    public long idleCloses() {
        return idleCloses.sum();
    }

    /** Requests holding a slot right now (loading, prefilling or decoding). */
    public int activeGenerations() {
        return active.get();
    }

    /** Highest {@link #activeGenerations()} seen. */
    public int peakConcurrentGenerations() {
        return peak.get();
    }

    /** Requests waiting for a slot right now. */
    public int waiting() {
        return waiting.get();
    }

    /** Zeroes the cumulative counters; gauges keep their current value and the peak restarts from it. */
    public void reset() {
        requestsReceived.reset();
        served.reset();
        cancelled.reset();
        rejected503.reset();
        notFound404.reset();
        tokensGenerated.reset();
        connectionsAccepted.reset();
        crashes.reset();
        idleCloses.reset();
        loads.reset();
        evictions.reset();
        blobsStored.reset();
        blobBytesStored.reset();
        blobBytesReceived.reset();
        writePauses.reset();
        pulls.reset();
        peak.set(active.get());
    }

    /** All values as one JSON object, the body of {@code GET /sim/counters}. */
    public String toJson() {
        return toJson("");
    }

    String toJson(String name) {
        return JsonOut.toJsonString(g -> {
            g.writeStartObject();
            if (!name.isEmpty()) {
                g.writeStringField("name", name);
            }
            g.writeNumberField("requestsReceived", requestsReceived());
            g.writeNumberField("served", served());
            g.writeNumberField("cancelled", cancelled());
            g.writeNumberField("rejected503", rejected503());
            g.writeNumberField("notFound404", notFound404());
            g.writeNumberField("crashes", crashes());
            g.writeNumberField("activeGenerations", activeGenerations());
            g.writeNumberField("peakConcurrentGenerations", peakConcurrentGenerations());
            g.writeNumberField("waiting", waiting());
            g.writeNumberField("tokensGenerated", tokensGenerated());
            g.writeNumberField("connectionsAccepted", connectionsAccepted());
            g.writeNumberField("idleCloses", idleCloses());
            g.writeNumberField("loads", loads());
            g.writeNumberField("evictions", evictions());
            g.writeNumberField("blobsStored", blobsStored());
            g.writeNumberField("blobBytesStored", blobBytesStored());
            g.writeNumberField("blobBytesReceived", blobBytesReceived());
            g.writeNumberField("writePauses", writePauses());
            g.writeNumberField("pulls", pulls());
            g.writeEndObject();
        });
    }

    @Override
    public String toString() {
        return toJson();
    }

    void onRequest() {
        requestsReceived.increment();
    }

    void onStatus(int status) {
        if (status >= 200 && status < 300) {
            served.increment();
        } else if (status == 404) {
            notFound404.increment();
        } else if (status == 503) {
            rejected503.increment();
        }
    }

    void onCancelled() {
        cancelled.increment();
    }

    /**
     * Times a stream stopped generating because its connection was not writable: the client (the balancer, in
     * tests) stopped reading, so backpressure reached the backend.
     */
    /** {@code /api/pull} requests received (each a download as far as the simulator goes). */
    public long pulls() {
        return pulls.sum();
    }

    void pullReceived() {
        pulls.increment();
    }

    public long writePauses() {
        return writePauses.sum();
    }

    void onWritePause() {
        writePauses.increment();
    }

    void onCrash() {
        crashes.increment();
    }

    void onToken() {
        tokensGenerated.increment();
    }

    void onModelLoaded() {
        loads.increment();
    }

    void onEviction() {
        evictions.increment();
    }

    void onBlobStored(long bytes) {
        blobsStored.increment();
        blobBytesStored.add(bytes);
    }

    void onBlobBytes(long bytes) {
        blobBytesReceived.add(bytes);
    }

    void onConnection() {
        connectionsAccepted.increment();
    }

    void onIdleClose() {
        idleCloses.increment();
    }

    void onSlotTaken() {
        int now = active.incrementAndGet();
        peak.accumulateAndGet(now, Math::max);
    }

    void onSlotFreed() {
        active.decrementAndGet();
    }

    void onWaitingChanged(int delta) {
        waiting.addAndGet(delta);
    }
}

package io.ollamabalancer.relay;

import io.ollamabalancer.schedule.PendingRequest;

/**
 * What {@code GET /balancer/requests/{id}} can tell about one inference request after it left the queue: the
 * backend it went to and how far its answer got. While it waits, its {@link PendingRequest} says where (the
 * scheduler is asked only then). Written by the request's exchange on its event loop, read by any thread: the
 * fields are volatile and each is meaningful on its own. Holds no buffers, and once the request ended nothing of it
 * but these few fields (kept for the retention period).
 */
public final class TrackedRequest {
    /** How far a dispatched request got; moves forward only. */
    public enum Phase {
        /** Waiting in the scheduler's queue (its position comes from the scheduler). */
        QUEUED("queued"),
        /** Dispatched: connecting or sent, no response head yet (the backend loads and prefills). */
        RUNNING("running"),
        /** The backend's answer is being relayed. */
        STREAMING("streaming"),
        /** The exchange ended (answered, refused, failed or the client left); kept a short while. */
        DONE("done");

        private final String label;

        Phase(String label) {
            this.label = label;
        }

        /** The state's name in the endpoint's JSON. */
        public String label() {
            return label;
        }
    }

    private final long id;
    private final String clientId;
    private final String modelKey;
    private final int priority;
    /** Dropped when the request ends: it leads to the prompt and the exchange, which must not outlive it. */
    private volatile PendingRequest pending;
    private volatile long queuedNanos;
    private volatile Phase phase = Phase.QUEUED;
    private volatile String backend;
    private volatile int status;
    private volatile String outcome = "";
    private volatile long doneNanos;

    TrackedRequest(long id, String clientId, PendingRequest pending) {
        this.id = id;
        this.clientId = clientId;
        this.pending = pending;
        this.modelKey = pending.modelKey();
        this.priority = pending.priority();
    }

    /** The balancer's request id (its {@code X-Request-Id} answer header). */
    public long id() {
        return id;
    }

    /** The {@code X-Request-Id} the client sent, or {@code null}. */
    public String clientId() {
        return clientId;
    }

    /** The scheduler's request while it is in flight; {@code null} once {@link Phase#DONE}. */
    public PendingRequest pending() {
        return pending;
    }

    public String modelKey() {
        return modelKey;
    }

    public int priority() {
        return priority;
    }

    /** Time it waited for a slot, once {@link Phase#DONE} (0 if it never got one). */
    public long queuedNanos() {
        return queuedNanos;
    }

    public Phase phase() {
        return phase;
    }

    /** The backend it was last sent to, or {@code null} before dispatch. */
    public String backend() {
        return backend;
    }

    /** The status answered, once {@link Phase#DONE} (0 when the client left before one). */
    public int status() {
        return status;
    }

    /** How it ended ({@code metrics.Outcome}'s label), once {@link Phase#DONE}. */
    public String outcome() {
        return outcome;
    }

    /** When it ended ({@link System#nanoTime()}), once {@link Phase#DONE}. */
    public long doneNanos() {
        return doneNanos;
    }

    void running(String backendName) {
        backend = backendName;
        phase = Phase.RUNNING;
    }

    void streaming() {
        phase = Phase.STREAMING;
    }

    void done(int answered, String how, long nowNanos) {
        PendingRequest p = pending;
        if (p != null) {
            queuedNanos = p.queuedNanos();
            if (backend == null && p.prediction() != null) {
                backend = p.prediction().backend();
            }
        }
        status = answered;
        outcome = how;
        doneNanos = nowNanos;
        phase = Phase.DONE;
        pending = null;
    }
}

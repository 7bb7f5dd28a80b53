package io.ollamabalancer.relay;

import io.ollamabalancer.schedule.PendingRequest;

/**
 * What {@code GET /balancer/requests/{id}} can tell about one inference request after it left the queue: the
 * backend it went to and how far its answer got. While it waits, its {@link PendingRequest} says where (the
 * scheduler is asked only then). Written by the request's exchange on its event loop, read by any thread: the
 * fields are volatile and each is meaningful on its own. Holds no buffers.
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
    private final PendingRequest pending;
    private volatile Phase phase = Phase.QUEUED;
    private volatile String backend;
    private volatile int status;
    private volatile String outcome = "";
    private volatile long doneNanos;

    TrackedRequest(long id, String clientId, PendingRequest pending) {
        this.id = id;
        this.clientId = clientId;
        this.pending = pending;
    }

    /** The balancer's request id (its {@code X-Request-Id} answer header). */
    public long id() {
        return id;
    }

    /** The {@code X-Request-Id} the client sent, or {@code null}. */
    public String clientId() {
        return clientId;
    }

    public PendingRequest pending() {
        return pending;
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
        status = answered;
        outcome = how;
        doneNanos = nowNanos;
        phase = Phase.DONE;
    }
}

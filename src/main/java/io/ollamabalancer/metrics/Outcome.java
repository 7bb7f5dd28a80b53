package io.ollamabalancer.metrics;

/**
 * How a client request ended, as metrics and the access log name it. The {@link #label()}s are the values that
 * dashboards and log queries already use; they never change. Immutable.
 */
public enum Outcome {
    /** Answered in full with a status below 400 and no error in the stream. */
    OK("ok"),
    /** An error status or an error line, the backend's or the balancer's own answer (4xx, 5xx, 503 busy). */
    ERROR("error"),
    /** The client left before the end. */
    CANCELLED("cancelled"),
    /** A backend failed: refused, reset, died mid-stream, stalled, or sent no response in time. */
    UPSTREAM_FAILED("upstream_failed"),
    /** The client stopped sending its (streamed) body for the client idle timeout. */
    CLIENT_TIMEOUT("client_timeout");

    private final String label;

    Outcome(String label) {
        this.label = label;
    }

    /** The outcome's name in the access log and in any label. */
    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return label;
    }
}

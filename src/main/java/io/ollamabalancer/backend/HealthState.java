package io.ollamabalancer.backend;

/**
 * Where a backend stands in the circuit-breaker cycle kept by {@link HealthTracker}. Stateless.
 *
 * <p>{@code UNKNOWN → UP} on the first success; {@code UNKNOWN/UP → EJECTED} on failures; {@code EJECTED →
 * HALF_OPEN} when the ejection time is over; {@code HALF_OPEN → UP} (with slow start) when its single trial
 * succeeds, {@code HALF_OPEN → EJECTED} (with a doubled ejection time) when it fails.
 */
public enum HealthState {
    /** Not checked yet: usable, so a fresh balancer serves at once. */
    UNKNOWN,
    /** Answering; may be ramping up after a recovery (slow start). */
    UP,
    /** Failed; gets no work and no probe until its ejection time is over. */
    EJECTED,
    /** Ejection time over: exactly one trial (a probe or one request) may go through at a time. */
    HALF_OPEN;

    /**
     * The coarse {@link Health} the older code reads. A half-open backend reports {@link Health#DOWN}: it is not
     * routable except for its one trial, which the tracker lets through itself.
     */
    public Health toHealth() {
        return switch (this) {
            case UNKNOWN -> Health.UNKNOWN;
            case UP -> Health.UP;
            case EJECTED, HALF_OPEN -> Health.DOWN;
        };
    }
}

package io.ollamabalancer.backend;

/**
 * Told when a backend is ejected or recovers, whichever path caused it (a probe or the request path). Each
 * transition is reported exactly once, by the thread that made it, after the tracker released its lock.
 * Implementations must be quick and must not block: they may run on an event loop.
 */
public interface HealthListener {

    /** Does nothing. */
    HealthListener NONE = new HealthListener() {
    };

    /** The backend was ejected (again); {@code why} is the failure that did it. */
    default void onEjected(Backend backend, String why) {
    }

    /**
     * The backend passed its half-open trial and is routable again (ramping up): refresh its models and let queued
     * work start. Not called for a fresh backend's first success, which was routable all along.
     */
    default void onRecovered(Backend backend) {
    }
}

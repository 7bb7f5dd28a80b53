package io.ollamabalancer.cluster;

/**
 * How many of one backend's slots this replica may use right now. In cluster mode each backend's grant is a live
 * view of the slots this replica holds in Redis (or its fallback share while Redis is unreachable); the backend's
 * local slot limit is {@code min(maxConcurrency, granted())}.
 *
 * <p>Thread-safety: {@link #granted()} is called on the dispatch path from any thread; implementations read a few
 * volatile fields and never block or allocate. The value may drop below the slots already in use (a slot was
 * given back, Redis went away): running work is never interrupted, new work waits until usage falls below it.
 */
@FunctionalInterface
public interface SlotGrant {
    /** No cluster: the backend's own limit is the only one. */
    SlotGrant UNLIMITED = () -> Integer.MAX_VALUE;

    int granted();
}

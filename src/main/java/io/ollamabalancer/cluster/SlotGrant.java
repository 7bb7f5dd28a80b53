package io.ollamabalancer.cluster;

/**
 * How many of one backend's slots this replica may use right now. In cluster mode each backend's grant is a live
 * view of the slots this replica holds in Redis (or its fallback share while Redis is unreachable); the backend's
 * local slot limit is {@code min(maxConcurrency, granted())}.
 *
 * <p>Thread-safety: {@link #granted()} is called on the dispatch path from any thread; implementations read a few
 * volatile fields and never block or allocate. The value may drop below the slots already in use (a slot was
 * given back, Redis went away): running work is never interrupted, new work waits until usage falls below it.
 *
 * <p><b>How to take a slot against a grant</b> (what {@code Backend.tryAcquireSlot} must do): raise the in-use
 * count first (CAS against {@code min(maxConcurrency, granted())}), then read {@code granted()} <em>again</em>; if
 * the count now exceeds it, undo and fail. The cluster lowers a grant before it reads the in-use count to tell
 * Redis what it still runs, so of a racing dispatch and a release at least one sees the other: either the
 * dispatch backs off, or Redis is told about its slot. Checking only before the increment can leave a slot in use
 * that Redis already gave to another replica.
 */
@FunctionalInterface
public interface SlotGrant {
    /** No cluster: the backend's own limit is the only one. */
    SlotGrant UNLIMITED = () -> Integer.MAX_VALUE;

    int granted();
}

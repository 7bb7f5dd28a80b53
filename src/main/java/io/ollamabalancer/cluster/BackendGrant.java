package io.ollamabalancer.cluster;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * This replica's grant of one backend's slots: the number the local scheduler may use, derived on every read from
 * a few fields so that no write can leave it stale.
 *
 * <pre>
 *   shared:   granted = min(held, target) − yielded − releasing
 *   alone:    granted = fallback   (the fair share; at first no more than what Redis recorded for this replica)
 * </pre>
 * {@code held} is what Redis last confirmed; {@code target} what the broker decided to hold (it drops before a
 * release is sent, and rises only after Redis confirmed); {@code yielded} counts slots given up at completion time
 * by {@link SlotBroker#slotFreed} and not yet folded into {@code target}; {@code releasing} those given up by
 * {@link SlotBroker#slotFreeing} whose slot is not released yet (they count in neither the in-use count a pass
 * reads nor {@code yielded}, yet no dispatcher may take them). Every transient state of these fields
 * errs low, so the replica never uses a slot it does not hold.
 *
 * <p>Threading: {@link #granted()} from any thread (volatile reads only). {@code yielded}, {@code releasing} and
 * {@code yieldBudget} are atomics shared with completing threads; the remaining fields are written on the cluster
 * thread only.
 */
final class BackendGrant implements SlotGrant {
    final String backend;
    /** Slots given up at completion, not yet folded into {@link #target}. */
    final AtomicInteger yielded = new AtomicInteger();
    /** Slots given up by a completion that has not released them yet (then they move to {@link #yielded}). */
    final AtomicInteger releasing = new AtomicInteger();
    /** How many completions may still give their slot to a better request elsewhere (from the last sync). */
    final AtomicInteger yieldBudget = new AtomicInteger();
    volatile boolean shared;
    volatile int held;
    volatile int target;
    volatile int fallback;
    /** While alone and the lease may still live: what Redis last recorded for this replica. */
    int aloneCap = Integer.MAX_VALUE;
    /**
     * What Redis last confirmed this replica holds, kept across {@link #alone} and a rejoin until the next
     * confirmation: a replica that loses Redis again before its first sync after a rejoin answered is still
     * recorded there with this many slots (the rejoin renewed its lease), so that is what it may keep using.
     */
    int confirmed;

    // Cluster thread only.
    /** Other replicas' waiting requests for this backend, as of the last sync. */
    int remoteWaiting;
    boolean inFlight;
    boolean dirty;
    /** Sync on the next pass whatever the numbers say (the lease was lost: Redis may have forgotten us). */
    boolean force;
    /** The grant was last asked for more than Redis gave. */
    boolean unmet;
    long retryAtNanos;
    long refreshAtNanos;

    BackendGrant(String backend, int fallback) {
        this.backend = backend;
        this.fallback = fallback;
    }

    @Override
    public int granted() {
        if (!shared) {
            return fallback;
        }
        // releasing first: a slot moves from it to yielded (yielded rises first), so this order never misses it.
        int r = releasing.get();
        return Math.max(0, Math.min(held, target) - yielded.get() - r);
    }

    /**
     * Back to fallback mode (Redis unreachable). Cluster thread.
     *
     * @param cap what Redis recorded for this replica: the most it may use while its lease may still be alive
     *            (the caller then sets {@link #fallback})
     */
    void alone(int cap) {
        aloneCap = cap;
        confirmed = cap;
        fallback = 0;
        shared = false;
        yielded.set(0);
        yieldBudget.set(0);
        held = 0;
        target = 0;
        remoteWaiting = 0;
        inFlight = false;
        dirty = false;
        force = false;
        unmet = false;
        retryAtNanos = 0;
        refreshAtNanos = 0;
    }

    @Override
    public String toString() {
        return "BackendGrant[" + backend + (shared ? " held=" + held + " target=" + target + " yielded=" + yielded
                : " fallback=" + fallback) + "]";
    }
}

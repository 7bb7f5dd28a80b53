package io.ollamabalancer.backend;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Active health checks: decides which backends to probe now and feeds the outcomes to their
 * {@link HealthTracker}s. A healthy (or not yet checked) backend is probed every {@code probeInterval}; an
 * ejected one not at all until its backoff ends, then once as its half-open trial. A probe is a GET of
 * {@link HealthPolicy#probePath()} through the injected {@link BackendProbe}; one not answered within
 * {@code probeTimeout} on the injected clock fails, and its late answer is ignored.
 *
 * <p>It owns no thread: someone calls {@link #tick()} every few hundred milliseconds (a scheduled executor in
 * production, the test directly). Transitions — from probes here or from the request path — reach the
 * {@link HealthListener} given to the constructor, which is installed on the fleet so every backend reports to it.
 *
 * <p>Thread-safety: {@link #tick()} is serialised on this prober; probe completions may run on any thread and only
 * touch the concurrent in-flight map and the (thread-safe) trackers.
 */
public final class HealthProber {
    private final Fleet fleet;
    private final BackendProbe probe;
    private final HealthPolicy policy;
    private final LongSupplier nanoTime;
    private final Map<Backend, Attempt> inFlight = new ConcurrentHashMap<>();

    /** One probe on its way; identity (not value) tells the current attempt from a timed-out one. */
    private static final class Attempt {
        final long startedNanos;

        Attempt(long startedNanos) {
            this.startedNanos = startedNanos;
        }
    }

    /**
     * @param fleet    whose backends to probe; its {@link Fleet#healthPolicy()} gives path, interval and timeout
     * @param probe    the asynchronous GET (the upstream layer's fetcher)
     * @param nanoTime the clock, the same one the fleet's trackers use
     * @param listener told of every ejection and recovery; installed on the fleet
     */
    public HealthProber(Fleet fleet, BackendProbe probe, LongSupplier nanoTime, HealthListener listener) {
        this.fleet = fleet;
        this.probe = probe;
        this.policy = fleet.healthPolicy();
        this.nanoTime = nanoTime;
        fleet.healthListener(listener);
    }

    /**
     * Fails probes that overran their timeout, then starts the probes due now. Returns how many it started.
     * Disabled backends are not probed; retiring ones neither (they only drain).
     */
    public synchronized int tick() {
        long now = nanoTime.getAsLong();
        expireOverdue(now);
        int started = 0;
        for (Backend b : fleet.all()) {
            if (!b.config().enabled() || inFlight.containsKey(b)) {
                continue;
            }
            if (b.healthTracker().allowProbe()) {
                start(b, now);
                started++;
            }
        }
        return started;
    }

    /** Probes in flight right now. */
    public int inFlight() {
        return inFlight.size();
    }

    private void start(Backend b, long now) {
        Attempt attempt = new Attempt(now);
        inFlight.put(b, attempt);
        b.healthTracker().probing();
        CompletableFuture<BackendProbe.Reply> reply;
        try {
            reply = probe.get(b, policy.probePath());
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, err) -> finish(b, attempt, r, err));
    }

    private void finish(Backend b, Attempt attempt, BackendProbe.Reply reply, Throwable err) {
        if (!inFlight.remove(b, attempt)) {
            return;
        }
        HealthTracker t = b.healthTracker();
        if (err != null && Failures.isLocal(err)) {
            // The balancer's own connection bound stopped the probe: nothing was learned about the backend.
            return;
        }
        if (err != null) {
            String why = "probe failed: " + Failures.describe(err);
            if (Failures.isConnectionRefused(err)) {
                t.onConnectionRefused(why);
            } else {
                t.onProbeFailure(why);
            }
        } else if (reply == null || !reply.ok()) {
            t.onProbeFailure("probe answered HTTP " + (reply == null ? "nothing" : reply.status()));
        } else {
            t.onProbeSuccess();
        }
    }

    // inFlight is a ConcurrentHashMap: its iterator is weakly consistent, so removing while iterating is safe.
    @SuppressWarnings("ModifyCollectionInEnhancedForLoop")
    private void expireOverdue(long now) {
        long timeout = policy.probeTimeout().toNanos();
        for (Map.Entry<Backend, Attempt> e : inFlight.entrySet()) {
            Attempt a = e.getValue();
            if (now - a.startedNanos >= timeout && inFlight.remove(e.getKey(), a)) {
                e.getKey().healthTracker().onProbeTimeout("probe timed out after "
                        + policy.probeTimeout().toMillis() + " ms");
            }
        }
    }
}

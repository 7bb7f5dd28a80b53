package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code least-connections}: the conventional rule of nginx's {@code least_conn} and HAProxy's {@code leastconn},
 * bound at arrival. Each request goes at once to the candidate with the fewest active connections relative to its
 * slots ({@code (waiting + running requests bound to it) / maxConcurrency}), ties round-robin, and then waits for
 * a slot on that backend only, in arrival order, as it would in Ollama's own unbounded FIFO queue. It does not
 * know job sizes or speeds: a request bound behind a long job on a slow backend stays there while another
 * backend idles. The late-binding variant is {@link LateLeastConnectionsPolicy}.
 *
 * <p>Thread-safe: the binding lives in the request (see {@link EarlyBindingPolicy}) and the per-backend counts are
 * atomic.
 */
public final class LeastConnectionsPolicy extends EarlyBindingPolicy {
    private final Map<String, AtomicInteger> active = new ConcurrentHashMap<>();
    private final AtomicInteger tieBreak = new AtomicInteger();

    @Override
    Backend assign(PendingRequest request, List<Backend> candidates) {
        int n = candidates.size();
        int start = Math.floorMod(tieBreak.getAndIncrement(), n);
        Backend best = null;
        double bestLoad = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            Backend b = candidates.get((start + i) % n);
            double load = (double) active(b).get() / Math.max(1, b.maxConcurrency());
            if (load < bestLoad) {
                bestLoad = load;
                best = b;
            }
        }
        return best;
    }

    @Override
    void bound(PendingRequest request, Backend backend) {
        active(backend).incrementAndGet();
    }

    @Override
    void unbound(PendingRequest request, Backend backend) {
        active(backend).decrementAndGet();
    }

    /** Requests bound to {@code backend} now, waiting or running. */
    int activeConnections(Backend backend) {
        return active(backend).get();
    }

    private AtomicInteger active(Backend b) {
        return active.computeIfAbsent(b.name(), k -> new AtomicInteger());
    }

    @Override
    public String name() {
        return "least-connections";
    }
}

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code least-connections-late}: least-connections with late binding. A request waits in the balancer's queue,
 * unbound, and starts on whichever candidate frees a slot first (among several free ones, the one with the fewest
 * slots in use relative to its size; ties go round-robin so equal backends share evenly). It never waits while a
 * slot is free, and a long job never holds up work queued behind it on one backend, so it is already close to an
 * earliest-finish schedule on one-slot fleets; it is not what a conventional proxy does (see
 * {@link LeastConnectionsPolicy}). Thread-safe (one atomic counter).
 */
public final class LateLeastConnectionsPolicy implements DispatchPolicy {
    private final AtomicInteger tieBreak = new AtomicInteger();

    @Override
    public Backend choose(PendingRequest request, List<Backend> candidates) {
        int n = candidates.size();
        int start = Math.floorMod(tieBreak.getAndIncrement(), n);
        Backend best = null;
        double bestLoad = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            Backend b = candidates.get((start + i) % n);
            if (!b.hasFreeSlot()) {
                continue;
            }
            double load = (double) b.slotsInUse() / b.maxConcurrency();
            if (load < bestLoad) {
                bestLoad = load;
                best = b;
            }
        }
        return best;
    }

    @Override
    public String name() {
        return "least-connections-late";
    }
}

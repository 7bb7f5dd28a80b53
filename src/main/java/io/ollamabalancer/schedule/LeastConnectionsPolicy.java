package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Least outstanding requests first, relative to each backend's slots; ties go round-robin so equal backends share
 * evenly. Never waits while a slot is free. Thread-safe (one atomic counter).
 */
public final class LeastConnectionsPolicy implements DispatchPolicy {
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
        return "least-connections";
    }
}

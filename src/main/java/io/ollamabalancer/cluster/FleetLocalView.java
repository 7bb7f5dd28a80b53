package io.ollamabalancer.cluster;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.PendingRequest;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@link LocalView} over the balancer's {@link Fleet} and the scheduler's per-model queues: a backend's demand is
 * every request waiting in a queue whose model it has, ranked by the queue head's key. Unavailable backends
 * (disabled, draining, ejected) have no demand, so the replica does not hold slots it could not use.
 *
 * <p>Thread-safe by delegation: it only reads the fleet's and the queues' concurrent state.
 */
public final class FleetLocalView implements LocalView {
    private final Fleet fleet;
    private final Supplier<Map<String, ModelQueue>> queues;
    private final Runnable drainAll;

    /**
     * @param queues   the scheduler's queues by model key (e.g. {@code scheduler::queues})
     * @param drainAll lets waiting work start (e.g. {@code scheduler::drainAll})
     */
    public FleetLocalView(Fleet fleet, Supplier<Map<String, ModelQueue>> queues, Runnable drainAll) {
        this.fleet = fleet;
        this.queues = queues;
        this.drainAll = drainAll;
    }

    @Override
    public Map<String, Integer> slotLimits() {
        Map<String, Integer> out = new HashMap<>();
        for (Backend b : fleet.all()) {
            out.put(b.name(), b.config().enabled() ? b.maxConcurrency() : 0);
        }
        return out;
    }

    @Override
    public int inUse(String backend) {
        Backend b = fleet.byName(backend);
        return b == null ? 0 : b.slotsInUse();
    }

    @Override
    public Collection<String> models(String backend) {
        Backend b = fleet.byName(backend);
        return b == null ? Set.of() : b.installedModels();
    }

    @Override
    public Demand demand(String backend) {
        Backend b = fleet.byName(backend);
        if (b == null || !b.isAvailable()) {
            return Demand.NONE;
        }
        int waiting = 0;
        long best = QueueScore.NONE;
        for (ModelQueue q : queues.get().values()) {
            if (q.isEmpty() || !b.hasModel(q.modelKey())) {
                continue;
            }
            Map.Entry<ModelQueue.QueueKey, PendingRequest> head = q.peek();
            if (head == null) {
                continue;
            }
            waiting += q.size();
            ModelQueue.QueueKey key = head.getKey();
            // The wall-clock order, not the queue's own (fair-share tags mean nothing to another replica).
            best = Math.min(best, QueueScore.of(key.priority(),
                    WallClock.SYSTEM.epochMillis(head.getValue().mirrorOrderNanos())));
        }
        return waiting == 0 ? Demand.NONE : new Demand(waiting, best);
    }

    @Override
    public void capacityGained() {
        drainAll.run();
    }
}

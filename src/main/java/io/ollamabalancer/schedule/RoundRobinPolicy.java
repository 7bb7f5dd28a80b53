package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Plain round-robin, bound at arrival: each request goes to the next backend in turn among those that have its
 * model, whatever their speed or backlog, and waits there. The baseline a naive proxy gives. Thread-safe (one
 * atomic counter).
 */
public final class RoundRobinPolicy extends EarlyBindingPolicy {
    private final AtomicInteger next = new AtomicInteger();

    @Override
    Backend assign(PendingRequest request, List<Backend> candidates) {
        return candidates.get(Math.floorMod(next.getAndIncrement(), candidates.size()));
    }

    @Override
    public String name() {
        return "round-robin";
    }
}

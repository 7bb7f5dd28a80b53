package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.estimate.TimingSample;

import java.util.List;

/**
 * The shape of the classic balancers the project compares against: each request is bound to a backend when it
 * arrives (as a proxy without a queue of its own would send it there at once) and then waits for a slot on that
 * backend only, as it would in Ollama's own FIFO: higher priority first, then in arrival order, whatever the
 * scheduler's {@link QueueOrder} (the balancer cannot reorder what a conventional proxy has already sent on). A
 * binding moves only if its backend stops being a candidate (ejected, draining, or excluded after a failed
 * connect).
 *
 * <p>Arrival order is found within the first 256 waiting requests in queue order; with SJF keys a
 * request further back may have arrived earlier, so under a deeper queue the order is arrival order only
 * approximately.
 *
 * <p>Thread-safe: the binding lives in the request ({@link PendingRequest#pin}, CAS), and subclasses keep their
 * own thread-safe state.
 */
abstract class EarlyBindingPolicy implements DispatchPolicy {
    private static final int LOOKAHEAD = 256;

    /** Picks the backend for a newly arrived request. */
    abstract Backend assign(PendingRequest request, List<Backend> candidates);

    /** {@code request} was bound to {@code backend}. */
    void bound(PendingRequest request, Backend backend) {
    }

    /** {@code request}'s binding to {@code backend} ended (it completed, was removed, or moved). */
    void unbound(PendingRequest request, Backend backend) {
    }

    @Override
    public final void onQueued(PendingRequest request, List<Backend> candidates) {
        binding(request, candidates);
    }

    @Override
    public final Backend choose(PendingRequest request, List<Backend> candidates) {
        Backend b = binding(request, candidates);
        return b.hasFreeSlot() ? b : null;
    }

    /**
     * The first waiting request (by priority) whose backend has a free slot names the backend; then the oldest
     * request of that priority bound to it goes.
     */
    @Override
    public final Selection select(QueueWindow window) {
        int chosen = -1;
        Backend target = null;
        for (int i = 0; window.has(i); i++) {
            PendingRequest r = window.request(i);
            Backend b = binding(r, window.candidates(i));
            if (target == null) {
                if (b.hasFreeSlot()) {
                    chosen = i;
                    target = b;
                }
                continue;
            }
            PendingRequest best = window.request(chosen);
            if (r.priority() < best.priority()) {
                break;
            }
            if (b == target && r.enqueuedNanos() < best.enqueuedNanos()) {
                chosen = i;
            }
        }
        return target == null ? null : new Selection(chosen, target);
    }

    @Override
    public final int lookahead() {
        return LOOKAHEAD;
    }

    @Override
    public final void onRemoved(PendingRequest request) {
        release(request);
    }

    @Override
    public void onCompleted(PendingRequest request, Backend backend, TimingSample sample) {
        release(request);
    }

    private Backend binding(PendingRequest request, List<Backend> candidates) {
        for (;;) {
            Backend current = request.pinned();
            if (current != null && candidates.contains(current)) {
                return current;
            }
            Backend next = assign(request, candidates);
            if (request.pin(current, next)) {
                if (current != null) {
                    unbound(request, current);
                }
                bound(request, next);
                return next;
            }
        }
    }

    private void release(PendingRequest request) {
        Backend b = request.unpin();
        if (b != null) {
            unbound(request, b);
        }
    }
}

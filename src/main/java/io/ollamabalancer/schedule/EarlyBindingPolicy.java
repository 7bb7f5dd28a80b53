package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.estimate.TimingSample;

import java.util.List;

/**
 * The shape of the classic balancers the project compares against: each request is bound to a backend when it
 * arrives (as a proxy without a queue of its own would send it there at once) and then waits for a slot on that
 * backend only, in queue order, as it would in Ollama's own FIFO. A binding moves only if its backend stops being
 * a candidate (ejected, draining, or excluded after a failed connect).
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

    @Override
    public final Selection select(QueueWindow window) {
        for (int i = 0; window.has(i); i++) {
            Backend b = binding(window.request(i), window.candidates(i));
            if (b.hasFreeSlot()) {
                return new Selection(i, b);
            }
        }
        return null;
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

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.estimate.TimingSample;

import java.util.List;

/**
 * Chooses where and when waiting requests start. Implementations must be thread-safe: the scheduler calls them
 * from whichever thread submitted or released work, possibly several at once; a decision is only a proposal (the
 * scheduler then races for the slot and the queue entry, and asks again if it loses).
 *
 * <p>Lifecycle hooks, per request: {@link #onQueued} once it waits (again after a retry), then either
 * {@link #onDispatched} and later {@link #onCompleted}, or {@link #onRemoved} when it leaves without finishing
 * (cancelled, expired, rejected, or its connection failed before anything was sent). {@code onRemoved} may be
 * called more than once for the same request and must be idempotent.
 */
public interface DispatchPolicy {

    /**
     * @param request    the head of its model's queue
     * @param candidates available backends that have the model (never empty)
     * @return a backend with a free slot to start on now, or {@code null} to keep the request waiting (for a slot,
     *         or for a busy backend that is expected to finish it sooner)
     */
    Backend choose(PendingRequest request, List<Backend> candidates);

    /**
     * Chooses among the requests of the window: the first {@link #lookahead()} waiting requests (of every model, in
     * queue order), then the head of each model's queue that has none among them ({@link QueueWindow}). The default
     * starts the first one {@link #choose} places, so a request whose backends are all busy does not hold up
     * another model's request behind it.
     *
     * @return which request to start on which backend (one with a free slot), or {@code null} to start nothing now
     */
    default Selection select(QueueWindow window) {
        for (int i = 0; window.has(i); i++) {
            Backend b = choose(window.request(i), window.candidates(i));
            if (b != null) {
                return new Selection(i, b);
            }
        }
        return null;
    }

    /** How many waiting requests {@link #select} looks at. */
    default int lookahead() {
        return 64;
    }

    /** The request entered its model's queue; {@code candidates} could serve it now. */
    default void onQueued(PendingRequest request, List<Backend> candidates) {
    }

    /** The request left the queue or its backend without completing; idempotent. */
    default void onRemoved(PendingRequest request) {
    }

    /** The request started on {@code backend}. */
    default void onDispatched(PendingRequest request, Backend backend) {
    }

    /** The request ended on {@code backend}; {@code sample} is {@link TimingSample#EMPTY} when none was read. */
    default void onCompleted(PendingRequest request, Backend backend, TimingSample sample) {
    }

    /**
     * Whether this policy routes by the placement plan: only then does the scheduler make the plan and preload
     * what it wants (a policy that ignores the plan would only see its models evicted by the preloads).
     */
    default boolean usesPlacement() {
        return false;
    }

    /** The policy's name as written in the config. */
    String name();
}

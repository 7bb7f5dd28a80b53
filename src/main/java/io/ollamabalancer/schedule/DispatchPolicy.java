package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.estimate.TimingSample;

import java.util.List;

/**
 * Chooses the backend for the request at the head of a model's queue. Implementations must be thread-safe: the
 * scheduler calls them from whichever thread submitted or released work.
 */
public interface DispatchPolicy {

    /**
     * @param request    the head of its model's queue
     * @param candidates available backends that have the model (never empty)
     * @return a backend with a free slot to start on now, or {@code null} to keep the request waiting (for a slot,
     *         or for a busy backend that is expected to finish it sooner)
     */
    Backend choose(PendingRequest request, List<Backend> candidates);

    /** The request started on {@code backend}. */
    default void onDispatched(PendingRequest request, Backend backend) {
    }

    /** The request ended on {@code backend}; {@code sample} is {@link TimingSample#EMPTY} when none was read. */
    default void onCompleted(PendingRequest request, Backend backend, TimingSample sample) {
    }

    /** The policy's name as written in the config. */
    String name();
}

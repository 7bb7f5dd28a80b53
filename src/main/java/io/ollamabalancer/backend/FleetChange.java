package io.ollamabalancer.backend;

import io.ollamabalancer.config.BackendsDiff;

import java.util.List;

/**
 * What {@link Fleet#apply} did, for the caller's follow-up (refresh new backends' models, let queued work start,
 * log). Immutable.
 *
 * @param diff         the config difference that was applied
 * @param added        new backend objects (new names, and moved URLs)
 * @param retiring     backends taken out of routing; they drain and are dropped once idle
 * @param reconfigured backends whose limits, models or enabled flag were changed in place
 */
public record FleetChange(BackendsDiff diff, List<Backend> added, List<Backend> retiring,
                          List<Backend> reconfigured) {

    public FleetChange {
        added = List.copyOf(added);
        retiring = List.copyOf(retiring);
        reconfigured = List.copyOf(reconfigured);
    }

    public boolean isEmpty() {
        return added.isEmpty() && retiring.isEmpty() && reconfigured.isEmpty();
    }
}

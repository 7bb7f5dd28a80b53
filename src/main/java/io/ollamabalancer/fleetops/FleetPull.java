package io.ollamabalancer.fleetops;

/**
 * {@code POST /api/pull} over the fleet: the same pull on every target at once (every available backend, or those
 * {@code X-Ollama-Backend: a,b} names), answered as one merged progress stream ({@link ProgressFanout},
 * {@link PullProgressMerger}). A body naming no model goes to one backend, which answers for it as Ollama does.
 * Stateless and thread-safe.
 */
final class FleetPull {
    private FleetPull() {
    }

    /** Where the pull goes. */
    static FleetTargets.Choice targets(FleetTargets fleet, String named, OperationFields fields) {
        FleetTargets.Choice all = fleet.all(named);
        return fields.model().isBlank() ? FleetTargets.first(all) : all;
    }
}

package io.ollamabalancer.estimate;

import java.util.Map;

/**
 * What a replica has learned that others should start from: backend speeds, output-length statistics, token
 * calibration — anything expressible as keyed, weighted averages ({@link WeightedStats}). The estimate package's
 * cost model plugs in behind this; the cluster only moves the numbers.
 *
 * <p>To avoid counting a sample twice, {@link #ownObservations()} must return only what this replica observed
 * itself, never what it absorbed; {@link #absorb} <em>replaces</em> the previous import (it is a prior, merged
 * with the replica's own samples by weight). Both are called on the cluster thread and must not block.
 */
public interface LearnedState {
    LearnedState NONE = new LearnedState() {
        @Override
        public Map<String, WeightedStats> ownObservations() {
            return Map.of();
        }

        @Override
        public void absorb(Map<String, WeightedStats> others) {
        }
    };

    /** This replica's own observations, by key (a snapshot; published every few seconds). */
    Map<String, WeightedStats> ownObservations();

    /** The other replicas' observations, merged by key; at start, after a rejoin, and periodically. */
    void absorb(Map<String, WeightedStats> others);
}

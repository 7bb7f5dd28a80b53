package io.ollamabalancer.cluster;

import java.util.Collection;
import java.util.Map;

/**
 * What the cluster needs to see of this replica's fleet and scheduler, and the one thing it asks the scheduler to
 * do. {@link FleetLocalView} implements it over {@code Fleet} and the scheduler's queues.
 *
 * <p>Threading: every method except {@link #slotLimits()} is called on the cluster thread only, never on an event
 * loop; {@link #slotLimits()} may also be called from any thread that asks for a {@link SlotGrant}. They read
 * concurrent structures and must not block; {@link #capacityGained()} may dispatch work (dispatch targets hop to
 * their own loops).
 */
public interface LocalView {

    /** The fleet's backends now: name → configured slot limit (maxConcurrency). */
    Map<String, Integer> slotLimits();

    /** Slots of this backend in use on this replica. */
    int inUse(String backend);

    /** The model keys (queue keys) this backend can serve. */
    Collection<String> models(String backend);

    /** This replica's waiting requests that this backend could serve. */
    Demand demand(String backend);

    /** Grants grew: let waiting work start (the scheduler's drain-all). */
    void capacityGained();

    /**
     * Waiting requests for one backend.
     *
     * @param waiting   how many
     * @param bestScore the best one's {@link QueueScore}, {@link QueueScore#NONE} when none waits
     */
    record Demand(int waiting, long bestScore) {
        public static final Demand NONE = new Demand(0, QueueScore.NONE);
    }
}

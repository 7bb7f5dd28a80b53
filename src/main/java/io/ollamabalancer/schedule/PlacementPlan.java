package io.ollamabalancer.schedule;

import static java.util.Collections.unmodifiableMap;
import static java.util.Collections.unmodifiableSet;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which models should be resident on which backends: the placement planner's answer at one moment. When no backend's
 * memory forces a choice the plan is {@linkplain #unrestricted() unrestricted}: every model may be everywhere it is
 * installed. Immutable.
 *
 * <p>When memory cannot hold every model in demand at once (two models that only one backend can hold and that do
 * not fit there together), the models left out {@linkplain #waits wait}: they take turns on the memory others hold
 * (the planner passes it on when a holder has served what waited for it, or has held it long enough), and their
 * requests neither load them elsewhere nor start where they are still warm but the plan wants the memory for the
 * holder. Loading a waiting model per request would evict the holder mid-turn, and the next request of the holder
 * would evict it back: each switch costs a load.
 *
 * @param holds       backend name → the models planned there
 * @param utilisation the fluid model's busiest-backend utilisation for this plan (1.0 = fully busy)
 * @param restricted  whether memory made the planner leave some model off some backend that has it installed
 * @param madeNanos   when it was made (the scheduler's clock)
 * @param waiting     models in demand that the plan holds nowhere for now, waiting for their turn on memory that
 *                    another model holds
 */
public record PlacementPlan(Map<String, Set<String>> holds, double utilisation, boolean restricted, long madeNanos,
                            Set<String> waiting) {
    private static final PlacementPlan NONE = new PlacementPlan(Map.of(), 0, false, Long.MIN_VALUE);

    public PlacementPlan {
        holds = unmodifiableMap(new TreeMap<>(holds));
        waiting = unmodifiableSet(new TreeSet<>(waiting));
    }

    /** A plan in which no model waits for a turn. */
    public PlacementPlan(Map<String, Set<String>> holds, double utilisation, boolean restricted, long madeNanos) {
        this(holds, utilisation, restricted, madeNanos, Set.of());
    }

    /** The plan before any demand was seen: nothing restricted. */
    public static PlacementPlan unrestricted() {
        return NONE;
    }

    /** Whether {@code model} is planned on {@code backend} (always true in an unrestricted plan). */
    public boolean planned(String backend, String model) {
        if (!restricted) {
            return true;
        }
        Set<String> s = holds.get(backend);
        return s != null && s.contains(model);
    }

    /** Whether {@code model} waits for its turn on memory another model holds (see the type's comment). */
    public boolean waits(String model) {
        return waiting.contains(model);
    }

    /** How many backends the plan puts {@code model} on. */
    public int replicas(String model) {
        int n = 0;
        for (Set<String> s : holds.values()) {
            if (s.contains(model)) {
                n++;
            }
        }
        return n;
    }
}

package io.ollamabalancer.schedule;

import static java.util.Collections.unmodifiableMap;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which models should be resident on which backends: the placement planner's answer at one moment. When no backend's
 * memory forces a choice the plan is {@linkplain #unrestricted() unrestricted}: every model may be everywhere it is
 * installed. Immutable.
 *
 * @param holds       backend name → the models planned there
 * @param utilisation the fluid model's busiest-backend utilisation for this plan (1.0 = fully busy)
 * @param restricted  whether memory made the planner leave some model off some backend that has it installed
 * @param madeNanos   when it was made (the scheduler's clock)
 */
public record PlacementPlan(Map<String, Set<String>> holds, double utilisation, boolean restricted, long madeNanos) {
    private static final PlacementPlan NONE = new PlacementPlan(Map.of(), 0, false, Long.MIN_VALUE);

    public PlacementPlan {
        holds = unmodifiableMap(new TreeMap<>(holds));
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

package io.ollamabalancer.schedule;

import static java.util.Collections.unmodifiableMap;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The placement planner's last trial ({@link PlacementTrial}), as {@code /balancer/status} shows it: the simulated
 * mean latency over the payback horizon of the plan that stood and of the best candidate, how surely the candidate
 * is better (its paired advantage over the draws of demand, in standard errors), how many candidates were judged,
 * the best candidate's placement, whether the plan changed to it, and when (the scheduler's clock). Immutable.
 *
 * @param currentSeconds the plan that stood: simulated mean latency, seconds
 * @param bestSeconds    the best candidate's, seconds (the plan's own when none was better)
 * @param sureness       the best candidate's paired advantage over its standard error
 * @param candidates     placements judged besides the plan that stood
 * @param best           the best candidate's placement: backend name → models
 * @param changed        whether the plan changed to it
 * @param atNanos        when the trial ran
 */
public record TrialReport(double currentSeconds, double bestSeconds, double sureness, int candidates,
                          Map<String, Set<String>> best, boolean changed, long atNanos) {
    public TrialReport {
        best = unmodifiableMap(new TreeMap<>(best));
    }
}

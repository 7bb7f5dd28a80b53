package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs the discrete-event benchmark: for every fleet and load, the same seeded trace (stretched to the load's
 * arrival rate) through every policy and through the oracle. Single-threaded, deterministic for a given seed.
 */
public final class DesMatrix {
    /** The label of the oracle's rows. */
    public static final String ORACLE = "oracle";
    /**
     * The label of a memory-limited fleet's reference: the oracle on {@link SimFleet#noSwap()} (every model loaded
     * everywhere, no memory limit) with the same trace. Such a fleet gets no plain oracle row: the oracle ignores
     * memory limits, so its figures would describe neither fleet.
     */
    public static final String NO_SWAP_ORACLE = "no-swap oracle";
    /**
     * The label of a memory-limited fleet's reachable reference: the oracle on the best static placement of its
     * models ({@link PlacementOracle}), same trace.
     */
    public static final String PLACEMENT_ORACLE = "placement oracle";

    private DesMatrix() {
    }

    /**
     * One fleet at one load: the arrival rate and a summary per policy, the oracle's last.
     *
     * @param placement the placement oracle's winning placement and how it was found, or {@code null} (no such row)
     */
    public record LoadRuns(double load, double rate, int requests, List<Summary> summaries, String placement) {
        public LoadRuns(double load, double rate, int requests, List<Summary> summaries) {
            this(load, rate, requests, summaries, null);
        }

        /** The oracle row, or the no-swap oracle's on a memory-limited fleet; {@code null} if neither ran. */
        public Summary reference() {
            Summary s = find(ORACLE);
            return s != null ? s : find(NO_SWAP_ORACLE);
        }

        public Summary find(String label) {
            for (Summary s : summaries) {
                if (s.label().equals(label)) {
                    return s;
                }
            }
            return null;
        }
    }

    /**
     * Every load of one fleet.
     *
     * @param mix the model mix of its traces (normalised), or {@code null} when it used the bench's common one
     */
    public record FleetRuns(SimFleet fleet, List<LoadRuns> loads, Map<String, Double> mix) {
        public FleetRuns(SimFleet fleet, List<LoadRuns> loads) {
            this(fleet, loads, null);
        }

        public LoadRuns at(double load) {
            for (LoadRuns l : loads) {
                if (Math.abs(l.load() - load) < 1e-9) {
                    return l;
                }
            }
            return null;
        }
    }

    /**
     * @param progress told about each finished run (for a console), may ignore it
     */
    public static FleetRuns run(SimFleet fleet, TraceShape shape, long seed, List<Double> loads,
                                List<String> policies, Consumer<String> progress) {
        Trace unit = TraceGenerator.generate(fleet.name(), seed, shape, fleet.answers());
        List<LoadRuns> out = new ArrayList<>();
        for (double load : loads) {
            double rate = fleet.rateFor(load, unit);
            Trace trace = unit.atRate(fleet.name() + " at " + Math.round(load * 100) + "%", rate);
            List<String> placement = new ArrayList<>(1);
            List<Summary> summaries = runAll(fleet, trace, policies, progress, placement);
            out.add(new LoadRuns(load, rate, trace.size(), summaries, placement.isEmpty() ? null : placement.get(0)));
        }
        return new FleetRuns(fleet, out);
    }

    /** As {@link #run}, recording that {@code shape}'s mix is the fleet's own. */
    public static FleetRuns runOwnMix(SimFleet fleet, TraceShape shape, long seed, List<Double> loads,
                                      List<String> policies, Consumer<String> progress) {
        FleetRuns r = run(fleet, shape, seed, loads, policies, progress);
        return new FleetRuns(r.fleet(), r.loads(), ModelMix.normalised(shape.modelMix()));
    }

    /**
     * Every policy and the oracle on one trace; on a memory-limited fleet the no-swap oracle and the placement
     * oracle instead.
     */
    public static List<Summary> runAll(SimFleet fleet, Trace trace, List<String> policies,
                                       Consumer<String> progress) {
        return runAll(fleet, trace, policies, progress, new ArrayList<>(1));
    }

    /** As {@link #runAll(SimFleet, Trace, List, Consumer)}, adding the placement oracle's placement to {@code placement}. */
    static List<Summary> runAll(SimFleet fleet, Trace trace, List<String> policies, Consumer<String> progress,
                                List<String> placement) {
        List<Summary> summaries = new ArrayList<>();
        for (String policy : policies) {
            long t0 = System.nanoTime();
            Summary s = Summary.of(policy, VirtualReplay.run(fleet, trace, policy));
            summaries.add(s);
            progress.accept(String.format(Locale.ROOT, "%s, %s: %s mean %.2f s, p99 %.2f s (%.1f s)", fleet.name(),
                    trace.name(), policy, s.e2eMean(), s.e2eP99(), (System.nanoTime() - t0) / 1e9));
        }
        if (fleet.memoryLimited()) {
            summaries.add(Summary.of(NO_SWAP_ORACLE, OracleReplay.run(fleet.noSwap(), trace)));
            long t0 = System.nanoTime();
            PlacementOracle.Result best = PlacementOracle.run(fleet, trace, PLACEMENT_ORACLE);
            if (best != null) {
                summaries.add(best.summary());
                placement.add(best.describe(fleet));
                progress.accept(String.format(Locale.ROOT, "%s, %s: %s mean %.2f s, p99 %.2f s, %s (%.1f s)", fleet.name(),
                        trace.name(), PLACEMENT_ORACLE, best.summary().e2eMean(), best.summary().e2eP99(),
                        best.describe(fleet), (System.nanoTime() - t0) / 1e9));
            }
        } else {
            summaries.add(Summary.of(ORACLE, OracleReplay.run(fleet, trace)));
        }
        return summaries;
    }
}

package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs the discrete-event benchmark: for every fleet and load, the same seeded trace (stretched to the load's
 * arrival rate) through every policy and through the oracle. Single-threaded, deterministic for a given seed.
 */
public final class DesMatrix {
    /** The label of the oracle's rows. */
    public static final String ORACLE = "oracle";

    private DesMatrix() {
    }

    /** One fleet at one load: the arrival rate and a summary per policy, the oracle's last. */
    public record LoadRuns(double load, double rate, int requests, List<Summary> summaries) {
        public Summary find(String label) {
            for (Summary s : summaries) {
                if (s.label().equals(label)) {
                    return s;
                }
            }
            return null;
        }
    }

    /** Every load of one fleet. */
    public record FleetRuns(SimFleet fleet, List<LoadRuns> loads) {
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
            out.add(new LoadRuns(load, rate, trace.size(), runAll(fleet, trace, policies, progress)));
        }
        return new FleetRuns(fleet, out);
    }

    /** Every policy and the oracle on one trace. */
    public static List<Summary> runAll(SimFleet fleet, Trace trace, List<String> policies,
                                       Consumer<String> progress) {
        List<Summary> summaries = new ArrayList<>();
        for (String policy : policies) {
            long t0 = System.nanoTime();
            Summary s = Summary.of(policy, VirtualReplay.run(fleet, trace, policy));
            summaries.add(s);
            progress.accept(String.format("%s, %s: %s mean %.2f s, p99 %.2f s (%.1f s)", fleet.name(),
                    trace.name(), policy, s.e2eMean(), s.e2eP99(), (System.nanoTime() - t0) / 1e9));
        }
        summaries.add(Summary.of(ORACLE, OracleReplay.run(fleet, trace)));
        return summaries;
    }
}

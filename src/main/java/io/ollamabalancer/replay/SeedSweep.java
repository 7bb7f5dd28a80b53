package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The same fleet, loads and policies over several trace seeds, so that a target is judged on more than one draw
 * of the workload: a summary per seed, and one over the outcomes of every seed pooled. Single-threaded,
 * deterministic.
 *
 * @param fleet  the fleet
 * @param seeds  the trace seeds
 * @param loads  per load, per policy (and {@link DesMatrix#ORACLE}): the runs
 */
public record SeedSweep(SimFleet fleet, List<Long> seeds, Map<Double, Map<String, Runs>> loads) {

    /** One policy at one load: a summary per seed and the pooled one. */
    public record Runs(List<Summary> perSeed, Summary pooled) {
        /** Smallest and largest per-seed value of {@code a ÷ b}, for the same seeds. */
        static double[] ratioRange(Runs a, Runs b, java.util.function.ToDoubleFunction<Summary> f) {
            double lo = Double.MAX_VALUE;
            double hi = -Double.MAX_VALUE;
            for (int i = 0; i < a.perSeed().size(); i++) {
                double r = f.applyAsDouble(a.perSeed().get(i)) / f.applyAsDouble(b.perSeed().get(i));
                lo = Math.min(lo, r);
                hi = Math.max(hi, r);
            }
            return new double[] {lo, hi};
        }
    }

    public static SeedSweep run(SimFleet fleet, TraceShape shape, List<Long> seeds, List<Double> loads,
                                List<String> policies) {
        Map<Double, Map<String, Runs>> out = new LinkedHashMap<>();
        for (double load : loads) {
            Map<String, List<Summary>> per = new LinkedHashMap<>();
            Map<String, List<Outcome>> pooled = new LinkedHashMap<>();
            for (long seed : seeds) {
                Trace unit = TraceGenerator.generate(fleet.name(), seed, shape, fleet.answers());
                Trace trace = unit.atRate(fleet.name(), fleet.rateFor(load, unit));
                for (String p : policies) {
                    add(per, pooled, p, VirtualReplay.run(fleet, trace, p));
                }
                add(per, pooled, DesMatrix.ORACLE, OracleReplay.run(fleet, trace));
            }
            Map<String, Runs> runs = new LinkedHashMap<>();
            per.forEach((p, list) -> runs.put(p, new Runs(list, Summary.of(p, pooled.get(p)))));
            out.put(load, runs);
        }
        return new SeedSweep(fleet, List.copyOf(seeds), out);
    }

    private static void add(Map<String, List<Summary>> per, Map<String, List<Outcome>> pooled, String policy,
                            List<Outcome> outcomes) {
        per.computeIfAbsent(policy, k -> new ArrayList<>()).add(Summary.of(policy, outcomes));
        pooled.computeIfAbsent(policy, k -> new ArrayList<>()).addAll(outcomes);
    }

    /** The runs of {@code policy} at {@code load}, or {@code null}. */
    public Runs at(double load, String policy) {
        for (Map.Entry<Double, Map<String, Runs>> e : loads.entrySet()) {
            if (Math.abs(e.getKey() - load) < 1e-9) {
                return e.getValue().get(policy);
            }
        }
        return null;
    }
}

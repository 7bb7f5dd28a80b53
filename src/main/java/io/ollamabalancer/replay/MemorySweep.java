package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How much the memory-limited fleets' figures move between traces: for each further trace seed and load, eft in the
 * discrete-event simulation against the no-swap oracle and the best static placement oracle on the same trace, and
 * eft's steady-state loads per 100 requests. Reported as per-seed ranges (one seed's table can flatter or wrong a
 * scheduler whose plan depends on the order demand shows up in). Single-threaded; stateless.
 */
final class MemorySweep {
    private MemorySweep() {
    }

    /** One fleet's ranges, load by load. */
    record Ranges(String fleet, List<Long> seeds, int requests, List<Double> loads, double[][] meanNoSwap,
                  double[][] meanPlacement, double[][] loadsSteady) {
    }

    /**
     * @param mix the fleet's own demand mix, or {@code null} for {@code shape}'s
     */
    static Ranges run(SimFleet fleet, TraceShape shape, Map<String, Double> mix, List<Long> seeds, int requests,
                      List<Double> loads) {
        TraceShape s = (mix == null ? shape : shape.withMix(mix)).withRequests(requests);
        double[][] noSwap = new double[loads.size()][seeds.size()];
        double[][] placement = new double[loads.size()][seeds.size()];
        double[][] steady = new double[loads.size()][seeds.size()];
        SimFleet reference = fleet.noSwap();
        for (int k = 0; k < seeds.size(); k++) {
            Trace unit = TraceGenerator.generate(fleet.name(), seeds.get(k), s, fleet.answers());
            for (int l = 0; l < loads.size(); l++) {
                Trace t = unit.atRate(fleet.name(), fleet.rateFor(loads.get(l), unit));
                Summary eft = Summary.of(TargetCheck.EFT, VirtualReplay.runDetailed(fleet, t, TargetCheck.EFT)
                        .outcomes());
                Summary oracle = Summary.of("no-swap", OracleReplay.run(reference, t));
                PlacementOracle.Result placed = PlacementOracle.run(fleet, t, "placement");
                Summary best = placed == null ? null : placed.summary();
                noSwap[l][k] = eft.e2eMean() / oracle.e2eMean();
                placement[l][k] = best == null ? Double.NaN : eft.e2eMean() / best.e2eMean();
                steady[l][k] = eft.loadsPer100Steady();
            }
        }
        return new Ranges(fleet.name(), List.copyOf(seeds), requests, List.copyOf(loads), noSwap, placement,
                steady);
    }

    /** The informational target line of {@code r}. */
    static TargetCheck.Line line(Ranges r) {
        List<String> parts = new ArrayList<>();
        for (int l = 0; l < r.loads().size(); l++) {
            parts.add(String.format(Locale.ROOT, "%d %%: mean ÷ no-swap %s, ÷ placement %s, steady loads/100 %s",
                    Math.round(r.loads().get(l) * 100), range(r.meanNoSwap()[l], "%.2f×"),
                    range(r.meanPlacement()[l], "%.2f×"), range(r.loadsSteady()[l], "%.2f")));
        }
        String seeds = r.seeds().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "));
        return new TargetCheck.Line(r.fleet() + ": (informational) eft per trace seed (" + seeds + "; "
                + r.requests() + " requests each), ranges over the seeds", String.join("; ", parts), null, true);
    }

    private static String range(double[] v, String format) {
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (double x : v) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        return String.format(Locale.ROOT, format, lo) + "–" + String.format(Locale.ROOT, format, hi);
    }
}

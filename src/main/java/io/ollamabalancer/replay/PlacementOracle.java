package io.ollamabalancer.replay;

import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The best static placement oracle of a memory-limited fleet: a reference such a fleet can reach. A placement gives
 * each simulator a set of its models that fits its memory ({@code maxLoadedModels}, {@code vramBytes} over
 * {@link SimModel#sizeBytes()}; one model always fits) such that every model the trace asks for is on at least one
 * simulator. A placement is judged by {@link OracleReplay} on the fleet restricted to it (each simulator keeps only
 * its models, all loaded at start, no memory limit: nothing ever loads); the oracle's figures are those of the
 * placement with the lowest end-to-end mean. Every placement is tried when there are at most
 * {@value #ENUMERATE_UP_TO}; otherwise a local search starts from a greedy placement (models by demand, each where
 * the oracle's mean is lowest) and tries placements that differ from the best so far by one model on one simulator
 * (added, removed or replaced), keeping each improvement, until none improves or {@value #SEARCH_EVALUATIONS}
 * placements were judged. Deterministic; stateless.
 */
public final class PlacementOracle {
    /** Enumerate every placement up to this many (before the coverage filter). */
    static final int ENUMERATE_UP_TO = 2000;
    /** The local search stops after judging this many placements. */
    static final int SEARCH_EVALUATIONS = 300;

    private PlacementOracle() {
    }

    /** For each simulator of a fleet (fleet order), the models it keeps loaded, in its file order. */
    public record Placement(List<List<SimModel>> models) {
        public Placement {
            models = models.stream().map(List::copyOf).toList();
        }

        /** {@code fast={llama3.2:1b} slow1={qwen2.5:0.5b, gemma3:1b}} */
        public String describe(SimFleet fleet) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < models.size(); i++) {
                sb.append(i == 0 ? "" : " ").append(fleet.sims().get(i).name()).append("={")
                        .append(models.get(i).stream().map(SimModel::name).collect(Collectors.joining(", ")))
                        .append('}');
            }
            return sb.toString();
        }

        private String key() {
            return models.stream().map(l -> l.stream().map(m -> ModelNames.normalize(m.name()))
                    .collect(Collectors.joining(","))).collect(Collectors.joining("|"));
        }
    }

    /**
     * The winning placement and its oracle figures.
     *
     * @param evaluated  placements judged
     * @param exhaustive whether every placement was judged (else: the local search's best)
     */
    public record Result(Placement placement, Summary summary, int evaluated, boolean exhaustive) {
        /** The placement and how it was found, for a report. */
        public String describe(SimFleet fleet) {
            return placement.describe(fleet) + (exhaustive ? " (best of " + evaluated + " placements)"
                    : " (local search, " + evaluated + " placements judged)");
        }
    }

    /** The placement oracle's figures on {@code trace}, labelled {@code label}; {@code null} if nothing covers it. */
    public static Result run(SimFleet fleet, Trace trace, String label) {
        Map<String, Integer> demand = demand(fleet, trace);
        List<List<List<SimModel>>> options = new ArrayList<>();
        long combos = 1;
        for (SimulatorConfig sim : fleet.sims()) {
            List<List<SimModel>> o = options(sim, demand.keySet());
            options.add(o);
            combos = o.isEmpty() ? 0 : Math.min(Long.MAX_VALUE / 64, combos * o.size());
        }
        if (demand.isEmpty() || combos == 0) {
            return null;
        }
        Judge judge = new Judge(fleet, trace, demand.keySet(), label);
        if (combos <= ENUMERATE_UP_TO) {
            Placement best = null;
            double bestMean = Double.POSITIVE_INFINITY;
            for (Placement p : enumerate(options, demand.keySet())) {
                double mean = judge.mean(p);
                if (mean < bestMean) {
                    best = p;
                    bestMean = mean;
                }
            }
            return best == null ? null : new Result(best, judge.summary(best), judge.evaluated(), true);
        }
        Placement best = search(fleet, options, demand, judge);
        return best == null ? null : new Result(best, judge.summary(best), judge.evaluated(), false);
    }

    /** Requests per model of the trace that some simulator has (normalised names), most asked first. */
    static Map<String, Integer> demand(SimFleet fleet, Trace trace) {
        Map<String, Integer> count = new HashMap<>();
        for (TraceRequest r : trace.requests()) {
            for (SimulatorConfig sim : fleet.sims()) {
                if (SimFleet.has(sim, r.model())) {
                    count.merge(ModelNames.normalize(r.model()), 1, Integer::sum);
                    break;
                }
            }
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        count.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()
                .thenComparing(Map.Entry.comparingByKey())).forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** Every non-empty set of {@code sim}'s models among {@code wanted} (normalised) that fits its memory. */
    static List<List<SimModel>> options(SimulatorConfig sim, Set<String> wanted) {
        List<SimModel> candidates = new ArrayList<>();
        for (SimModel m : sim.models()) {
            if (wanted.contains(ModelNames.normalize(m.name()))) {
                candidates.add(m);
            }
        }
        List<List<SimModel>> out = new ArrayList<>();
        for (int mask = 1; mask < 1 << candidates.size(); mask++) {
            List<SimModel> set = new ArrayList<>();
            for (int i = 0; i < candidates.size(); i++) {
                if ((mask & 1 << i) != 0) {
                    set.add(candidates.get(i));
                }
            }
            if (fits(sim, set)) {
                out.add(set);
            }
        }
        out.sort((a, b) -> Integer.compare(a.size(), b.size()));
        return out;
    }

    /** Whether {@code set} may be loaded at once on {@code sim} (a single model always fits). */
    static boolean fits(SimulatorConfig sim, List<SimModel> set) {
        if (set.size() <= 1) {
            return true;
        }
        if (sim.maxLoadedModels() > 0 && set.size() > sim.maxLoadedModels()) {
            return false;
        }
        if (sim.vramBytes() > 0) {
            long total = 0;
            for (SimModel m : set) {
                total += m.sizeBytes();
            }
            return total <= sim.vramBytes();
        }
        return true;
    }

    /** Every placement of {@code fleet} that covers every model of {@code trace}, or {@code null} if too many. */
    static List<Placement> placements(SimFleet fleet, Trace trace) {
        Set<String> wanted = demand(fleet, trace).keySet();
        List<List<List<SimModel>>> options = new ArrayList<>();
        long combos = 1;
        for (SimulatorConfig sim : fleet.sims()) {
            List<List<SimModel>> o = options(sim, wanted);
            options.add(o);
            combos = Math.min(Long.MAX_VALUE / 64, combos * o.size());
        }
        return combos > ENUMERATE_UP_TO ? null : enumerate(options, wanted);
    }

    private static List<Placement> enumerate(List<List<List<SimModel>>> options, Set<String> wanted) {
        List<Placement> out = new ArrayList<>();
        int[] at = new int[options.size()];
        while (true) {
            List<List<SimModel>> sets = new ArrayList<>();
            for (int i = 0; i < at.length; i++) {
                sets.add(options.get(i).get(at[i]));
            }
            Placement p = new Placement(sets);
            if (uncovered(p, wanted) == 0) {
                out.add(p);
            }
            int i = at.length - 1;
            while (i >= 0 && ++at[i] == options.get(i).size()) {
                at[i--] = 0;
            }
            if (i < 0) {
                return out;
            }
        }
    }

    static int uncovered(Placement p, Set<String> wanted) {
        Set<String> on = new LinkedHashSet<>();
        for (List<SimModel> set : p.models()) {
            for (SimModel m : set) {
                on.add(ModelNames.normalize(m.name()));
            }
        }
        int missing = 0;
        for (String w : wanted) {
            missing += on.contains(w) ? 0 : 1;
        }
        return missing;
    }

    /** The fleet restricted to {@code p}: each simulator with only its models, loaded, and no memory limit. */
    static SimFleet restrict(SimFleet fleet, Placement p) {
        List<SimulatorConfig> out = new ArrayList<>();
        for (int i = 0; i < fleet.sims().size(); i++) {
            List<SimModel> set = p.models().get(i);
            if (set.isEmpty()) {
                continue;
            }
            out.add(fleet.sims().get(i).toBuilder().models(set.stream().map(m -> m.withLoadedAtStart(true)).toList())
                    .maxLoadedModels(0).vramBytes(0).build());
        }
        return new SimFleet(fleet.name() + " (placement)", out);
    }

    /** Greedy start, then one-model changes on one simulator while they improve (uncovered models first). */
    private static Placement search(SimFleet fleet, List<List<List<SimModel>>> options, Map<String, Integer> demand,
                                    Judge judge) {
        int n = fleet.sims().size();
        List<List<SimModel>> sets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sets.add(new ArrayList<>());
        }
        for (String model : demand.keySet()) {
            int bestSim = -1;
            double bestMean = Double.POSITIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                SimModel m = find(fleet.sims().get(i), model);
                if (m == null) {
                    continue;
                }
                List<SimModel> with = new ArrayList<>(sets.get(i));
                with.add(m);
                if (!fits(fleet.sims().get(i), with)) {
                    continue;
                }
                List<List<SimModel>> trial = new ArrayList<>(sets);
                trial.set(i, inFileOrder(fleet.sims().get(i), with));
                double mean = judge.partialMean(new Placement(trial));
                if (mean < bestMean) {
                    bestMean = mean;
                    bestSim = i;
                }
            }
            if (bestSim >= 0) {
                List<SimModel> with = new ArrayList<>(sets.get(bestSim));
                with.add(find(fleet.sims().get(bestSim), model));
                sets.set(bestSim, inFileOrder(fleet.sims().get(bestSim), with));
            }
        }
        for (int i = 0; i < n; i++) {
            if (sets.get(i).isEmpty() && !options.get(i).isEmpty()) {
                sets.set(i, options.get(i).get(0));
            }
        }
        Placement best = new Placement(sets);
        double[] bestScore = judge.score(best);
        boolean improved = true;
        while (improved && judge.evaluated() < SEARCH_EVALUATIONS) {
            improved = false;
            for (int i = 0; i < n && !improved && judge.evaluated() < SEARCH_EVALUATIONS; i++) {
                for (List<SimModel> o : options.get(i)) {
                    if (judge.evaluated() >= SEARCH_EVALUATIONS) {
                        break;
                    }
                    if (difference(best.models().get(i), o) != 1 && !swapsOne(best.models().get(i), o)) {
                        continue;
                    }
                    List<List<SimModel>> trial = new ArrayList<>(best.models());
                    trial.set(i, o);
                    Placement p = new Placement(trial);
                    double[] score = judge.score(p);
                    if (score[0] < bestScore[0] || score[0] == bestScore[0] && score[1] < bestScore[1]) {
                        best = p;
                        bestScore = score;
                        improved = true;
                        break;
                    }
                }
            }
        }
        return bestScore[0] == 0 ? best : null;
    }

    /** Models in one set and not the other, both ways. */
    private static int difference(List<SimModel> a, List<SimModel> b) {
        int d = 0;
        for (SimModel m : a) {
            d += b.contains(m) ? 0 : 1;
        }
        for (SimModel m : b) {
            d += a.contains(m) ? 0 : 1;
        }
        return d;
    }

    private static boolean swapsOne(List<SimModel> a, List<SimModel> b) {
        return a.size() == b.size() && difference(a, b) == 2;
    }

    private static SimModel find(SimulatorConfig sim, String key) {
        for (SimModel m : sim.models()) {
            if (ModelNames.normalize(m.name()).equals(key)) {
                return m;
            }
        }
        return null;
    }

    private static List<SimModel> inFileOrder(SimulatorConfig sim, List<SimModel> set) {
        return sim.models().stream().filter(set::contains).toList();
    }

    /** Runs the oracle on placements, each once. */
    private static final class Judge {
        private final SimFleet fleet;
        private final Trace trace;
        private final Set<String> wanted;
        private final String label;
        private final Map<String, Double> means = new HashMap<>();

        Judge(SimFleet fleet, Trace trace, Set<String> wanted, String label) {
            this.fleet = fleet;
            this.trace = trace;
            this.wanted = wanted;
            this.label = label;
        }

        /** The oracle's e2e mean over the requests the placement can serve. */
        double partialMean(Placement p) {
            return means.computeIfAbsent(p.key(), k -> summary(p).e2eMean());
        }

        double mean(Placement p) {
            return partialMean(p);
        }

        /** Uncovered models, then the mean. */
        double[] score(Placement p) {
            return new double[] {uncovered(p, wanted), partialMean(p)};
        }

        Summary summary(Placement p) {
            return Summary.of(label, OracleReplay.run(restrict(fleet, p), trace));
        }

        int evaluated() {
            return means.size();
        }
    }
}

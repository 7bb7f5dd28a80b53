package io.ollamabalancer.replay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The whole scheduling benchmark behind {@code replay bench}: the discrete-event matrix (every fleet × load ×
 * policy, plus the oracle), the priority runs, the comparison with real-socket replays made beforehand by
 * {@code replay run}, the target checklist, and the Markdown section. Single-threaded.
 */
public final class SchedulingBench {
    private SchedulingBench() {
    }

    /** A real-socket replay's outcomes file, for one policy ({@code eft}, or {@code eft#2} for a second round). */
    public record RealFile(String policy, Path outcomes) {
    }

    /**
     * What to run.
     *
     * @param fleets           the fleets, each named for its file
     * @param targetFleet      the name of the 3:1:1 fleet the targets are about
     * @param equalFleet       the name of the equal-speed fleet
     * @param shape            trace shape (without priorities)
     * @param priorityFleet    the fleet of the priority runs
     * @param priorityLoad     their load (0.9)
     * @param priorityHigh     their share of {@code high}
     * @param priorityLow      their share of {@code low}
     * @param priorityPolicies the policies run with priorities
     * @param realFleet        the accelerated fleet of the real-socket runs, or {@code null} for none
     * @param realTrace        their trace
     * @param realLoad         the load their trace was made for
     * @param real             one outcomes file per policy
     * @param realPriority     outcomes of a real-socket priority run (policy, file), or {@code null}
     * @param realPriorityTrace its trace
     * @param sweepSeeds       trace seeds over which the targets of the 3:1:1 and equal-speed fleets are judged
     * @param sweepRequests    requests per trace of that sweep
     * @param setup            lines describing machine, command and date
     * @param notes            notes to add to the computed ones
     * @param fleetMixes       fleet name → its own model mix (fleets not named use {@code shape}'s)
     * @param memoryLoads      the loads of memory-limited fleets (instead of {@code loads})
     * @param swapFleet        the accelerated memory-limited fleet of real-socket runs, or {@code null} for none
     * @param swapTrace        their trace
     * @param swapLoad         the load their trace was made for
     * @param swapReal         one outcomes file per policy
     * @param swapLoads        policy → model loads its simulators counted over the run ({@code "?"}: unknown)
     */
    public record Config(List<SimFleet> fleets, String targetFleet, String equalFleet, List<Double> loads,
                         List<String> policies, TraceShape shape, long seed, String priorityFleet,
                         double priorityLoad, double priorityHigh, double priorityLow, List<String> priorityPolicies,
                         SimFleet realFleet, Trace realTrace, double realLoad, List<RealFile> real,
                         RealFile realPriority, Trace realPriorityTrace, List<Long> sweepSeeds, int sweepRequests,
                         List<String> setup, List<String> notes, Map<String, Map<String, Double>> fleetMixes,
                         List<Double> memoryLoads, SimFleet swapFleet, Trace swapTrace, double swapLoad,
                         List<RealFile> swapReal, Map<String, String> swapLoads) {
    }

    /** Loads of memory-limited fleets unless told otherwise: 40, 60 and 80 % of their no-swap capacity. */
    public static final List<Double> DEFAULT_MEMORY_LOADS = List.of(0.4, 0.6, 0.8);

    /** Runs everything and returns the section's Markdown. */
    public static String run(Config c, Consumer<String> progress) throws IOException {
        List<DesMatrix.FleetRuns> fleets = new ArrayList<>();
        for (SimFleet f : c.fleets()) {
            Map<String, Double> own = c.fleetMixes().get(f.name());
            List<Double> loads = f.memoryLimited() ? c.memoryLoads() : c.loads();
            fleets.add(own == null ? DesMatrix.run(f, c.shape(), c.seed(), loads, c.policies(), progress)
                    : DesMatrix.runOwnMix(f, c.shape().withMix(own), c.seed(), loads, c.policies(), progress));
        }
        List<TargetCheck.PriorityRuns> priorities = new ArrayList<>();
        SimFleet pf = find(c.fleets(), c.priorityFleet());
        String mixText = String.format(Locale.ROOT, "%d %% high, %d %% normal, %d %% low",
                Math.round(c.priorityHigh() * 100), Math.round((1 - c.priorityHigh() - c.priorityLow()) * 100),
                Math.round(c.priorityLow() * 100));
        if (pf != null) {
            TraceShape shape = c.shape().withPriorities(c.priorityHigh(), c.priorityLow());
            Trace unit = TraceGenerator.generate(pf.name(), c.seed() + 1, shape, pf.answers());
            Trace trace = unit.atRate(pf.name() + " priorities", pf.rateFor(c.priorityLoad(), unit));
            List<Summary> runs = DesMatrix.runAll(pf, trace, c.priorityPolicies(), progress);
            priorities.add(new TargetCheck.PriorityRuns("simulation", pf.name(), c.priorityLoad(), mixText,
                    runs.subList(0, runs.size() - 1)));
        }
        SchedulingReport.RealSection real = null;
        List<TargetCheck.Labelled> estimates = new ArrayList<>();
        if (c.realFleet() != null && !c.real().isEmpty()) {
            List<RealRun> runs = new ArrayList<>();
            List<Outcome> pooled = new ArrayList<>();
            double lo = Double.MAX_VALUE;
            double hi = 0;
            for (RealFile f : c.real()) {
                List<Outcome> outcomes = OutcomeFile.read(f.outcomes());
                RealRun r = RealRun.of(f.policy(), c.realFleet(), c.realTrace(), outcomes);
                runs.add(r);
                pooled.addAll(c.realTrace().measured(outcomes));
                lo = Math.min(lo, r.estimate().median());
                hi = Math.max(hi, r.estimate().median());
                progress.accept(String.format(Locale.ROOT, "real %s: mean %.3f s (simulated %.3f s), %d errors",
                        f.policy(), r.real().e2eMean(), r.des().e2eMean(), r.real().errors()));
            }
            estimates.add(new TargetCheck.Labelled(String.format(Locale.ROOT,
                    "real sockets, %d runs pooled; per run %.1f–%.1f %%", runs.size(), lo * 100, hi * 100),
                    EstimateAccuracy.of(pooled, 0)));
            real = new SchedulingReport.RealSection(c.realFleet(), c.realLoad(), c.realTrace().size(), runs);
            if (c.realPriority() != null) {
                List<Outcome> measured = OutcomeFile.read(c.realPriority().outcomes());
                if (c.realPriorityTrace() != null) {
                    measured = c.realPriorityTrace().measured(measured);
                }
                priorities.add(new TargetCheck.PriorityRuns("real sockets", c.realFleet().name(), c.priorityLoad(),
                        mixText, List.of(Summary.of(c.realPriority().policy(), measured))));
            }
        }
        DesMatrix.FleetRuns target = runsOf(fleets, c.targetFleet());
        if (target != null && target.at(0.7) != null) {
            Summary eft = target.at(0.7).find(TargetCheck.EFT);
            if (eft != null) {
                List<Outcome> des = VirtualReplay.run(target.fleet(), TraceGenerator.generate(target.fleet().name(),
                        c.seed(), c.shape(), target.fleet().answers()).atRate("x", target.at(0.7).rate()), "eft");
                estimates.add(new TargetCheck.Labelled("simulation, " + target.fleet().name() + " at 70 %, eft",
                        EstimateAccuracy.of(des, RealRun.WARMUP)));
            }
        }
        SeedSweep targetSweep = sweep(c, c.targetFleet(), List.of(TargetCheck.EFT, TargetCheck.LC, TargetCheck.RR),
                progress);
        SeedSweep equalSweep = sweep(c, c.equalFleet(), List.of(TargetCheck.EFT, TargetCheck.LC), progress);
        List<TargetCheck.Line> targets = new ArrayList<>(TargetCheck.judge(targetSweep, equalSweep, priorities,
                estimates));
        if (real != null) {
            targets.addAll(2, TargetCheck.real(real.fleet().name(), real.runs()));
        }
        targets.addAll(TargetCheck.memory(fleets, c.seed()));
        for (SimFleet f : c.fleets()) {
            if (f.memoryLimited() && !c.sweepSeeds().isEmpty()) {
                long t0 = System.nanoTime();
                MemorySweep.Ranges r = MemorySweep.run(f, c.shape(), c.fleetMixes().get(f.name()), c.sweepSeeds(),
                        c.sweepRequests(), c.memoryLoads());
                targets.add(MemorySweep.line(r));
                progress.accept(String.format(Locale.ROOT, "%s: seed sweep in %.1f s", f.name(),
                        (System.nanoTime() - t0) / 1e9));
            }
        }
        targets.add(TargetCheck.p50EveryFleet(fleets, c.seed()));
        SchedulingReport.SwapSection swap = swapSection(c, progress);
        if (swap != null) {
            targets.addAll(TargetCheck.swapReal(swap));
        }
        List<String> notes = new ArrayList<>(BenchNotes.computed(fleets));
        notes.addAll(c.notes());
        List<String> setup = new ArrayList<>(c.setup());
        setup.add(String.format(Locale.ROOT, "Trace: %d requests per run, seed %d, Poisson arrivals; models %s; "
                        + "%d %% chat, %d %% generate; prompts log-normal (median %.0f tokens, σ %.1f) of "
                        + "English-like text; %d %% with num_predict in {32…512}; answer lengths log-normal as the "
                        + "simulator draws them (σ 1, mean %d tokens), known to the oracle only. Load = arrival rate "
                        + "÷ the fleet's capacity (Σ slots ÷ mean service time) for this trace.",
                c.shape().requests(), c.seed(), SchedulingReport.mix(normalised(c.shape().modelMix())),
                Math.round(c.shape().chatShare() * 100), Math.round((1 - c.shape().chatShare()) * 100),
                c.shape().promptMedian(), c.shape().promptSigma(), Math.round(c.shape().capShare() * 100),
                c.fleets().get(0).sims().get(0).meanOutputTokens()));
        setup.add(String.format(Locale.ROOT, "Targets are judged by the discrete-event simulation over %d further "
                + "trace seeds (%s) of %d requests each, pooled (mean and p99 over every request of every seed), "
                + "with the per-seed range; the tables below show one seed (%d).", c.sweepSeeds().size(),
                c.sweepSeeds().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")),
                c.sweepRequests(), c.seed()));
        setup.add("Policies: `eft` (earliest estimated finish, late binding, SJF queue with aging: the default), "
                + "`least-connections` (fewest active requests per slot, bound at arrival, then FIFO at the "
                + "backend: nginx `least_conn` / HAProxy `leastconn` in front of Ollama), `least-connections-late` "
                + "(unbound until a slot frees, then the least busy free backend), `round-robin` and `legacy` "
                + "(both bound at arrival), and the offline `oracle` (true lengths, earliest finish in arrival "
                + "order). TTFT is arrival to the first streamed token.");
        List<String> own = new ArrayList<>();
        for (DesMatrix.FleetRuns f : fleets) {
            if (f.mix() != null || f.fleet().memoryLimited()) {
                own.add(f.fleet().name() + (f.mix() != null ? " (" + SchedulingReport.mix(f.mix()) + ")" : "")
                        + (f.fleet().memoryLimited() ? " at " + f.loads().stream()
                        .map(l -> Math.round(l.load() * 100) + " %").collect(java.util.stream.Collectors.joining(", "))
                        + " of its no-swap capacity" : ""));
            }
        }
        if (!own.isEmpty()) {
            setup.add("Fleets with their own demand mix or loads (same seed and trace shape otherwise): "
                    + String.join("; ", own) + ". No-swap capacity: the fleet's capacity as if every model were "
                    + "loaded everywhere (placement and loads ignored), so 80 % of it can be more than a fleet "
                    + "that has to swap models can serve.");
        }
        return SchedulingReport.render(new SchedulingReport.Content(setup, targets, fleets, priorities, real, swap,
                notes));
    }

    private static SchedulingReport.SwapSection swapSection(Config c, Consumer<String> progress) throws IOException {
        if (c.swapFleet() == null || c.swapTrace() == null || c.swapReal().isEmpty()) {
            return null;
        }
        double halfLoad = Double.MAX_VALUE;
        for (io.ollamabalancer.sim.SimulatorConfig sim : c.swapFleet().sims()) {
            halfLoad = Math.min(halfLoad, sim.loadTimeMillis() / 2000.0);
        }
        List<SchedulingReport.SwapRun> runs = new ArrayList<>();
        for (RealFile f : c.swapReal()) {
            List<Outcome> all = OutcomeFile.read(f.outcomes());
            RealRun run = RealRun.of(f.policy(), c.swapFleet(), c.swapTrace(), all);
            int served = (int) all.stream().filter(Outcome::ok).count();
            List<Outcome> measured = c.swapTrace().measured(all);
            double limit = halfLoad;
            int waited = measured.stream().anyMatch(o -> o.loadSeconds() >= 0)
                    ? (int) measured.stream().filter(o -> o.ok() && o.loadSeconds() >= limit).count() : -1;
            String counted = c.swapLoads().getOrDefault(f.policy(), "?");
            runs.add(new SchedulingReport.SwapRun(run, counted, served, waited));
            progress.accept(String.format(Locale.ROOT, "real %s on %s: mean %.3f s (simulated %.3f s), %d errors, "
                    + "%s model loads", f.policy(), c.swapFleet().name(), run.real().e2eMean(), run.des().e2eMean(),
                    run.real().errors(), counted));
        }
        return new SchedulingReport.SwapSection(c.swapFleet(), c.swapLoad(), c.swapTrace().size()
                - c.swapTrace().warmup(), c.swapTrace().warmup(), runs);
    }

    private static SeedSweep sweep(Config c, String fleetName, List<String> policies, Consumer<String> progress) {
        SimFleet f = find(c.fleets(), fleetName);
        if (f == null || c.sweepSeeds().isEmpty()) {
            return null;
        }
        long t0 = System.nanoTime();
        SeedSweep s = SeedSweep.run(f, c.shape().withRequests(c.sweepRequests()), c.sweepSeeds(), c.loads(),
                policies);
        progress.accept(String.format(Locale.ROOT, "%s: %d seeds × %d requests × %d loads × %d policies in %.1f s",
                fleetName, c.sweepSeeds().size(), c.sweepRequests(), c.loads().size(), policies.size() + 1,
                (System.nanoTime() - t0) / 1e9));
        return s;
    }

    private static Map<String, Double> normalised(Map<String, Double> mix) {
        double total = mix.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<String, Double> out = new java.util.LinkedHashMap<>();
        mix.forEach((k, v) -> out.put(k, v / total));
        return out;
    }

    private static SimFleet find(List<SimFleet> fleets, String name) {
        for (SimFleet f : fleets) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        return null;
    }

    private static DesMatrix.FleetRuns runsOf(List<DesMatrix.FleetRuns> runs, String name) {
        for (DesMatrix.FleetRuns r : runs) {
            if (r.fleet().name().equals(name)) {
                return r;
            }
        }
        return null;
    }
}

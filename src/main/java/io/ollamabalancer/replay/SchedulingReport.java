package io.ollamabalancer.replay;

import io.ollamabalancer.sim.SimulatorConfig;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Renders the scheduling benchmark as the Markdown of {@code bench/RESULTS.md}'s scheduling section: set-up, the
 * target checklist, one table per fleet, priorities, real sockets against the simulation, and notes. Stateless.
 */
public final class SchedulingReport {
    private SchedulingReport() {
    }

    /** Everything the section says; {@code swap} (real-socket runs on a memory-limited fleet) may be null. */
    public record Content(List<String> setup, List<TargetCheck.Line> targets, List<DesMatrix.FleetRuns> fleets,
                          List<TargetCheck.PriorityRuns> priorities, RealSection real, SwapSection swap,
                          List<String> notes) {
        public Content(List<String> setup, List<TargetCheck.Line> targets, List<DesMatrix.FleetRuns> fleets,
                       List<TargetCheck.PriorityRuns> priorities, RealSection real, List<String> notes) {
            this(setup, targets, fleets, priorities, real, null, notes);
        }
    }

    /**
     * Real-socket runs on a memory-limited fleet (accelerated).
     *
     * @param requests measured requests of the trace
     * @param warmup   warm-up requests sent before them
     */
    public record SwapSection(SimFleet fleet, double load, int requests, int warmup, List<SwapRun> runs) {
    }

    /**
     * One real-socket run on a memory-limited fleet.
     *
     * @param loadsCounted  model loads the simulators counted over the whole run ({@code GET /sim/counters}, summed),
     *                      or {@code "?"} when they did not say
     * @param served        requests of the whole run (warm-up included) that completed
     * @param waitedForLoad measured requests whose {@code load_duration} was at least half a model load, or -1 when
     *                      no answer reported {@code load_duration}
     */
    public record SwapRun(RealRun run, String loadsCounted, int served, int waitedForLoad) {
        /** Loads per 100 completed requests over the whole run, NaN when the count is unknown. */
        public double loadsPer100() {
            try {
                return served == 0 ? Double.NaN : Long.parseLong(loadsCounted.strip()) * 100.0 / served;
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
    }

    /** Client sends later than this at p99 mean the machine, not the balancer, set the pace of a run. */
    static final double DISTURBED_SEND_LAG = 0.05;

    /** The real-socket runs: which fleet (accelerated), which load, and one entry per policy. */
    public record RealSection(SimFleet fleet, double load, int requests, List<RealRun> runs) {
    }

    public static String render(Content c) {
        StringBuilder md = new StringBuilder();
        md.append("## Scheduling\n\n");
        for (String line : c.setup()) {
            md.append("- ").append(line).append('\n');
        }
        md.append("\n### Targets\n\n| target | figures | met |\n|---|---|---|\n");
        for (TargetCheck.Line t : c.targets()) {
            md.append("| ").append(t.target()).append(" | ").append(t.figures()).append(" | ")
                    .append(t.informational() ? "reported" : t.met() == null ? "not measured"
                            : t.met() ? "**met**" : "**not met**").append(" |\n");
        }
        for (DesMatrix.FleetRuns f : c.fleets()) {
            fleet(md, f);
        }
        if (!c.priorities().isEmpty()) {
            md.append("\n### Priorities\n\n");
            md.append("| where | fleet, load | policy | p99 queue wait high | normal | low | high ÷ low |\n")
                    .append("|---|---|---|---:|---:|---:|---:|\n");
            for (TargetCheck.PriorityRuns p : c.priorities()) {
                for (Summary s : p.summaries()) {
                    md.append(String.format(Locale.ROOT, "| %s | %s, %d %% (%s) | %s | %s | %s | %s | %.2f× |%n",
                            p.where(), p.fleet(), Math.round(p.load() * 100), p.mix(), s.label(),
                            sec(s.queueP99High()), sec(s.queueP99Normal()), sec(s.queueP99Low()),
                            s.queueP99High() / s.queueP99Low()));
                }
            }
        }
        if (c.real() != null) {
            real(md, c.real());
        }
        if (c.swap() != null) {
            swap(md, c.swap());
        }
        if (!c.notes().isEmpty()) {
            md.append("\n### Notes and limits\n\n");
            for (String n : c.notes()) {
                md.append("- ").append(n).append('\n');
            }
        }
        return md.toString();
    }

    private static void fleet(StringBuilder md, DesMatrix.FleetRuns f) {
        if (f.fleet().memoryLimited()) {
            memoryFleet(md, f);
            return;
        }
        md.append("\n### Fleet: ").append(f.fleet().name()).append("\n\n");
        md.append(describe(f.fleet().sims())).append('\n');
        md.append("Discrete-event simulation; seconds. ÷ LC: ratio to `least-connections` (bound at arrival); "
                + "÷ oracle: ratio to the oracle.\n\n");
        md.append("| load | policy | e2e mean | e2e p50 | e2e p99 | TTFT mean | TTFT p50 | TTFT p99 | mean ÷ LC "
                + "| p99 ÷ LC | mean ÷ oracle | p99 ÷ oracle | requests per backend |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (DesMatrix.LoadRuns l : f.loads()) {
            Summary lc = l.find(TargetCheck.LC);
            Summary oracle = l.reference();
            for (Summary s : l.summaries()) {
                md.append(String.format(Locale.ROOT, "| %d %% (%.2f/s) | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                                + "| %s | %s | %s |%n", Math.round(l.load() * 100), l.rate(),
                        s.label().equals(TargetCheck.EFT) ? "**eft**" : s.label(), sec(s.e2eMean()), sec(s.e2eP50()),
                        sec(s.e2eP99()), sec(s.ttftMean()), sec(s.ttftP50()), sec(s.ttftP99()),
                        ratio(s.e2eMean(), lc == null ? Double.NaN : lc.e2eMean()),
                        ratio(s.e2eP99(), lc == null ? Double.NaN : lc.e2eP99()),
                        ratio(s.e2eMean(), oracle == null ? Double.NaN : oracle.e2eMean()),
                        ratio(s.e2eP99(), oracle == null ? Double.NaN : oracle.e2eP99()),
                        perBackend(s) + (s.errors() > 0 ? " (" + s.errors() + " errors)" : "")));
            }
        }
    }

    /** A memory-limited fleet: model loads and the p99.9 queue wait, against the no-swap oracle. */
    private static void memoryFleet(StringBuilder md, DesMatrix.FleetRuns f) {
        md.append("\n### Fleet: ").append(f.fleet().name()).append(" (memory-limited)\n\n");
        md.append(describe(f.fleet().sims())).append('\n');
        if (f.mix() != null) {
            md.append("Demand: ").append(mix(f.mix())).append(".\n\n");
        }
        md.append("Discrete-event simulation; seconds. Loads ÷ 100: model loads started per 100 completed requests, "
                + "at steady state (the second half of the trace, by arrival) and over the whole trace (start "
                + "state included). ÷ LC: ratio to `least-connections` (bound at arrival); ÷ no-swap: ratio to "
                + "the no-swap oracle (the oracle on the same fleet with every model loaded everywhere and no memory "
                + "limit, same trace); ÷ placement: ratio to the placement oracle (the oracle on the best static "
                + "placement of the models that fits each backend's memory, same trace; its row names the "
                + "placement). \"–\": not measured (a replay that does not count its loads).\n\n");
        md.append("| load | policy | e2e mean | e2e p50 | e2e p99 | TTFT p99 | queue wait p99.9 | loads ÷ 100, "
                + "steady | loads ÷ 100, all | mean ÷ LC | p50 ÷ LC | mean ÷ no-swap | p99 ÷ no-swap "
                + "| mean ÷ placement | p99 ÷ placement | requests per backend |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (DesMatrix.LoadRuns l : f.loads()) {
            Summary lc = l.find(TargetCheck.LC);
            Summary ref = l.reference();
            Summary placed = l.find(DesMatrix.PLACEMENT_ORACLE);
            for (Summary s : l.summaries()) {
                String backends = perBackend(s) + (s.errors() > 0 ? " (" + s.errors() + " errors)" : "");
                if (s == placed && l.placement() != null) {
                    backends = "placement: " + l.placement() + "; " + backends;
                }
                md.append(String.format(Locale.ROOT, "| %d %% (%.2f/s) | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                                + "| %s | %s | %s | %s | %s | %s |%n", Math.round(l.load() * 100), l.rate(),
                        s.label().equals(TargetCheck.EFT) ? "**eft**" : s.label(), sec(s.e2eMean()), sec(s.e2eP50()),
                        sec(s.e2eP99()), sec(s.ttftP99()), sec(s.queueP999()), loads(s.loadsPer100Steady()),
                        loads(s.loadsPer100()),
                        ratio(s.e2eMean(), lc == null ? Double.NaN : lc.e2eMean()),
                        ratio(s.e2eP50(), lc == null ? Double.NaN : lc.e2eP50()),
                        ratio(s.e2eMean(), ref == null ? Double.NaN : ref.e2eMean()),
                        ratio(s.e2eP99(), ref == null ? Double.NaN : ref.e2eP99()),
                        ratio(s.e2eMean(), placed == null ? Double.NaN : placed.e2eMean()),
                        ratio(s.e2eP99(), placed == null ? Double.NaN : placed.e2eP99()), backends));
            }
        }
    }

    private static void swap(StringBuilder md, SwapSection r) {
        md.append("\n### Real sockets on a memory-limited fleet: ").append(r.fleet().name()).append(", ")
                .append(Math.round(r.load() * 100)).append(" %\n\n");
        md.append(describe(r.fleet().sims())).append('\n');
        md.append("The same trace (").append(r.requests()).append(" requests after ").append(r.warmup())
                .append(" warm-up) replayed by `replay run` through the balancer to `simulate --fleet` processes, "
                        + "and through the discrete-event simulation; seconds. Real loads ÷ 100: the model loads "
                        + "the simulators counted (`GET /sim/counters`, field `loads`, summed) over the whole run, "
                        + "warm-up and start included, per 100 requests served in it (\"?\": the simulators did "
                        + "not report loads); simulation: over the measured requests (steady: their second half). "
                        + "Waited on a load: measured requests whose `load_duration` was at least half a model "
                        + "load.\n\n");
        md.append("| policy | source | errors | e2e mean | e2e p50 | e2e p99 | queue wait p99.9 | loads ÷ 100 "
                + "| waited on a load | requests per backend |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (SwapRun run : r.runs()) {
            Summary real = run.run().real();
            Summary des = run.run().des();
            double per100 = run.loadsPer100();
            md.append(String.format(Locale.ROOT, "| %s | real sockets | %d | %s | %s | %s | %s | %s | %s | %s |%n",
                    run.run().policy(), real.errors(), sec3(real.e2eMean()), sec3(real.e2eP50()),
                    sec3(real.e2eP99()), sec3(real.queueP999()),
                    Double.isNaN(per100) ? "? (" + run.loadsCounted() + " loads)" : String.format(Locale.ROOT,
                            "%.1f (%s loads ÷ %d requests)", per100, run.loadsCounted().strip(), run.served()),
                    run.waitedForLoad() < 0 ? "–" : String.valueOf(run.waitedForLoad()), perBackend(real)));
            md.append(String.format(Locale.ROOT, "| %s | simulation | %d | %s | %s | %s | %s | %s steady, %s all "
                            + "| – | %s |%n", run.run().policy(), des.errors(), sec3(des.e2eMean()),
                    sec3(des.e2eP50()), sec3(des.e2eP99()), sec3(des.queueP999()), loads(des.loadsPer100Steady()),
                    loads(des.loadsPer100()), perBackend(des)));
        }
    }

    /** Loads per 100 requests, one decimal; "–" when unknown. */
    static String loads(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static void real(StringBuilder md, RealSection r) {
        md.append("\n### Real sockets against the simulation: ").append(r.fleet().name()).append(", ")
                .append(Math.round(r.load() * 100)).append(" %\n\n");
        md.append(describe(r.fleet().sims())).append('\n');
        md.append("The same trace (").append(r.requests()).append(" requests) replayed by `replay run` through "
                + "the balancer to `simulate --fleet` processes over loopback, and through the discrete-event "
                + "simulation of the same fleet; seconds.\n\n");
        md.append("| policy | source | errors | e2e mean | e2e p50 | e2e p99 | TTFT mean | TTFT p50 | TTFT p99 "
                + "| requests per backend | sends late by (p99) |\n"
                + "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
        int disturbed = 0;
        for (RealRun run : r.runs()) {
            boolean late = run.real().sendLagP99() > DISTURBED_SEND_LAG;
            disturbed += late ? 1 : 0;
            for (Summary s : List.of(run.real(), run.des())) {
                boolean real = s == run.real();
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                        run.policy(), real ? (late ? "real sockets, **disturbed**" : "real sockets") : "simulation",
                        s.errors(), sec3(s.e2eMean()),
                        sec3(s.e2eP50()), sec3(s.e2eP99()), sec3(s.ttftMean()), sec3(s.ttftP50()),
                        sec3(s.ttftP99()), perBackend(s), real ? sec3(s.sendLagP99()) : "–"));
            }
        }
        if (disturbed > 0) {
            md.append(String.format(Locale.ROOT, "%nDisturbed: in %d of %d runs the replay client itself sent "
                    + "requests more than %.0f ms late at p99, so other processes held the CPU for whole seconds "
                    + "(the machine is shared); those runs measure the machine, not the balancer.%n", disturbed,
                    r.runs().size(), DISTURBED_SEND_LAG * 1000));
        }
        md.append("\n| policy | real ÷ simulation: e2e mean | e2e p99 | TTFT mean | answers unlike the trace "
                + "| prompt estimate: median error | p90 | median bias |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (RealRun run : r.runs()) {
            EstimateAccuracy a = run.estimate();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %d | %.1f %% | %.1f %% | %+.1f %% |%n",
                    run.policy(), ratio(run.real().e2eMean(), run.des().e2eMean()),
                    ratio(run.real().e2eP99(), run.des().e2eP99()),
                    ratio(run.real().ttftMean(), run.des().ttftMean()), run.lengthMismatches(),
                    a.median() * 100, a.p90() * 100, a.bias() * 100));
        }
    }

    /** One line per simulator: speeds, slots, models (a star marks those loaded at start). */
    static String describe(List<SimulatorConfig> sims) {
        StringBuilder sb = new StringBuilder();
        for (SimulatorConfig c : sims) {
            String models = c.models().stream().map(m -> m.name()
                            + (c.vramBytes() > 0 ? " " + gb(m.sizeBytes()) : "") + (m.loadedAtStart() ? "" : " (cold)"))
                    .collect(Collectors.joining(", "));
            String limits = (c.maxLoadedModels() > 0 ? ", at most " + c.maxLoadedModels() + " model"
                    + (c.maxLoadedModels() == 1 ? "" : "s") + " loaded" : "")
                    + (c.vramBytes() > 0 ? ", " + gb(c.vramBytes()) + " for models" : "");
            sb.append(String.format(Locale.ROOT, "- `%s`: %s tok/s decode, %s tok/s prefill, %d slot%s, load %s s%s;"
                            + " %s%n", c.name(), num(c.decodeTokensPerSecond()), num(c.prefillTokensPerSecond()),
                    c.slots(), c.slots() == 1 ? "" : "s", num(c.loadTimeMillis() / 1000.0), limits, models));
        }
        return sb.toString();
    }

    private static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }

    private static String perBackend(Summary s) {
        return s.perBackend().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    static String sec(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v)
                : v >= 10 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    /** Milliseconds matter in the accelerated runs: three decimals. */
    static String sec3(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.3f", v);
    }

    static String ratio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || b <= 0) {
            return "–";
        }
        return String.format(Locale.ROOT, "%.2f×", a / b);
    }

    private static String num(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
    }

    /** A model mix as {@code a 70 %, b 30 %}. */
    static String mix(Map<String, Double> mix) {
        return mix.entrySet().stream().map(e -> e.getKey() + " " + Math.round(e.getValue() * 100) + " %")
                .collect(Collectors.joining(", "));
    }
}

package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The issue's targets, judged against the benchmark's figures: each target with its measured figures and whether
 * it was met. A target whose figures were not produced (a fleet or run left out) is reported as not measured.
 * Stateless.
 */
public final class TargetCheck {
    static final String EFT = "eft";
    static final String LC = "least-connections";
    static final String RR = "round-robin";

    private TargetCheck() {
    }

    /**
     * One line of the checklist; {@code met} is {@code null} when it could not be measured.
     *
     * @param informational figures reported without a threshold (status "reported"; {@code met} is null)
     */
    public record Line(String target, String figures, Boolean met, boolean informational) {
        public Line(String target, String figures, Boolean met) {
            this(target, figures, met, false);
        }
    }

    /**
     * @param fast311    the 3:1:1 fleet over several seeds (or {@code null})
     * @param equal      the equal-speed fleet over several seeds (or {@code null})
     * @param priorities the priority runs (simulated, and real when there is one)
     * @param estimates  prompt-estimate accuracy, by where it was measured
     */
    public static List<Line> judge(SeedSweep fast311, SeedSweep equal, List<PriorityRuns> priorities,
                                   List<Labelled> estimates) {
        List<Line> out = new ArrayList<>();
        if (fast311 != null && fast311.at(0.7, EFT) != null && fast311.at(0.7, LC) != null) {
            SeedSweep.Runs e = fast311.at(0.7, EFT);
            SeedSweep.Runs lc = fast311.at(0.7, LC);
            out.add(ratioLine("3:1:1, 70 %: eft mean ≤ 0.8× least-connections", fast311, e, lc, Summary::e2eMean,
                    0.8));
            out.add(ratioLine("3:1:1, 70 %: eft p99 ≤ 0.6× least-connections", fast311, e, lc, Summary::e2eP99,
                    0.6));
        } else {
            out.add(new Line("3:1:1, 70 %: eft vs least-connections", "not measured", null));
        }
        if (fast311 != null && fast311.at(0.5, EFT) != null && fast311.at(0.5, RR) != null) {
            SeedSweep.Runs e = fast311.at(0.5, EFT);
            SeedSweep.Runs rr = fast311.at(0.5, RR);
            double f = rr.pooled().e2eMean() / e.pooled().e2eMean();
            double[] range = SeedSweep.Runs.ratioRange(rr, e, Summary::e2eMean);
            out.add(new Line("3:1:1, 50 %: eft mean ≥ 4× lower than round-robin",
                    String.format(Locale.ROOT, "%s: %.2f s vs %.2f s, %.1f× lower (per seed %.1f–%.1f×)",
                            pooled(fast311, e), e.pooled().e2eMean(), rr.pooled().e2eMean(), f, range[0], range[1]),
                    f >= 4));
        }
        if (fast311 != null) {
            StringBuilder figures = new StringBuilder(pooled(fast311, null)).append(": ");
            boolean met = true;
            boolean first = true;
            for (double load : fast311.loads().keySet()) {
                SeedSweep.Runs e = fast311.at(load, EFT);
                SeedSweep.Runs o = fast311.at(load, DesMatrix.ORACLE);
                if (e == null || o == null) {
                    continue;
                }
                double f = e.pooled().e2eMean() / o.pooled().e2eMean();
                double[] range = SeedSweep.Runs.ratioRange(e, o, Summary::e2eMean);
                met &= f <= 1.15;
                figures.append(String.format(Locale.ROOT, "%s%d %%: %.2f× (per seed %.2f–%.2f×)", first ? "" : "; ",
                        Math.round(load * 100), f, range[0], range[1]));
                first = false;
            }
            out.add(new Line("3:1:1: eft mean ≤ 1.15× the oracle (every load)", figures.toString(), met));
        }
        if (equal != null) {
            StringBuilder figures = new StringBuilder("worst seed of " + equal.seeds().size() + ": ");
            boolean met = true;
            boolean first = true;
            for (double load : equal.loads().keySet()) {
                SeedSweep.Runs e = equal.at(load, EFT);
                SeedSweep.Runs lc = equal.at(load, LC);
                if (e == null || lc == null) {
                    continue;
                }
                double mean = SeedSweep.Runs.ratioRange(e, lc, Summary::e2eMean)[1];
                double p99 = SeedSweep.Runs.ratioRange(e, lc, Summary::e2eP99)[1];
                met &= mean <= 1.0 && p99 <= 1.0;
                figures.append(String.format(Locale.ROOT, "%s%d %%: mean %.2f×, p99 %.2f×", first ? "" : "; ",
                        Math.round(load * 100), mean, p99));
                first = false;
            }
            out.add(new Line("equal speeds: eft never worse than least-connections (mean and p99, every load, "
                    + "every seed)", figures.toString(), met));
        }
        for (PriorityRuns priority : priorities) {
            for (Summary s : priority.summaries()) {
                if (!s.label().startsWith(EFT)) {
                    continue;
                }
                double f = s.queueP99High() / s.queueP99Low();
                out.add(new Line(String.format(Locale.ROOT, "%s, %d %%: p99 queue wait of high ≤ 0.2× low (%s, %s)",
                        priority.fleet(), Math.round(priority.load() * 100), s.label(), priority.where()),
                        String.format(Locale.ROOT, "%.2f s vs %.2f s = %.2f×", s.queueP99High(), s.queueP99Low(), f), f <= 0.2));
            }
        }
        for (Labelled l : estimates) {
            EstimateAccuracy a = l.accuracy();
            out.add(new Line("prompt estimate within 10 % of prompt_eval_count (median, after warm-up; " + l.where()
                    + ")", String.format(Locale.ROOT, "median error %.1f %% over %d requests (p90 %.1f %%, median bias %+.1f %%)",
                    a.median() * 100, a.requests(), a.p90() * 100, a.bias() * 100),
                    a.requests() == 0 ? null : a.median() <= 0.10));
        }
        return out;
    }

    /**
     * The 70 % targets measured over real sockets: each round's {@code eft} against the same round's
     * {@code least-connections} (labels {@code eft}, {@code eft#2}, …).
     */
    public static List<Line> real(String fleet, List<RealRun> runs) {
        List<Line> out = new ArrayList<>();
        for (RealRun e : runs) {
            if (!e.policy().equals(EFT) && !e.policy().startsWith(EFT + "#")) {
                continue;
            }
            String round = e.policy().substring(EFT.length());
            for (RealRun lc : runs) {
                if (!lc.policy().equals(LC + round)) {
                    continue;
                }
                String where = String.format(Locale.ROOT, "%s, 70 %%, real sockets%s", fleet,
                        round.isEmpty() ? "" : " (round " + round.substring(1) + ")");
                double mean = e.real().e2eMean() / lc.real().e2eMean();
                double p99 = e.real().e2eP99() / lc.real().e2eP99();
                out.add(new Line(where + ": eft mean ≤ 0.8× least-connections", String.format(Locale.ROOT,
                        "%.3f s vs %.3f s = %.2f×", e.real().e2eMean(), lc.real().e2eMean(), mean), mean <= 0.8));
                out.add(new Line(where + ": eft p99 ≤ 0.6× least-connections", String.format(Locale.ROOT,
                        "%.3f s vs %.3f s = %.2f×", e.real().e2eP99(), lc.real().e2eP99(), p99), p99 <= 0.6));
            }
        }
        return out;
    }

    /** #9's limits on a memory-limited fleet, at every one of its loads. */
    static final double SWAP_MEAN_VS_NO_SWAP = 1.5;
    static final double SWAP_P99_VS_NO_SWAP = 2.5;
    static final double SWAP_MEAN_VS_LC = 0.15;
    static final double SWAP_LOADS_PER_100 = 2;

    /**
     * Issue #9's targets for each memory-limited fleet, judged at each of its loads on the discrete-event tables
     * (one trace seed): eft against the no-swap oracle (mean, p99) and least-connections (mean), eft's model loads
     * per 100 requests at steady state, and every request served (with eft's p99.9 queue wait as a figure). A line
     * is met when every load meets it, not measured when a figure is missing at some load (and none missed);
     * each load's figure that misses is marked "missed". Last, an informational line per fleet: eft's mean and
     * p99 against the placement oracle, reported without a threshold.
     *
     * @param seed the trace seed of the tables, for the wording
     */
    public static List<Line> memory(List<DesMatrix.FleetRuns> fleets, long seed) {
        List<Line> out = new ArrayList<>();
        for (DesMatrix.FleetRuns f : fleets) {
            if (!f.fleet().memoryLimited()) {
                continue;
            }
            String name = f.fleet().name() + " (simulation, seed " + seed + ")";
            out.add(perLoad(name + ": eft mean ≤ " + SWAP_MEAN_VS_NO_SWAP + "× the no-swap oracle", f,
                    (e, l) -> ratioOf(e.e2eMean(), ref(l, DesMatrix.NO_SWAP_ORACLE, Summary::e2eMean)),
                    SWAP_MEAN_VS_NO_SWAP, "×"));
            out.add(perLoad(name + ": eft p99 ≤ " + SWAP_P99_VS_NO_SWAP + "× the no-swap oracle", f,
                    (e, l) -> ratioOf(e.e2eP99(), ref(l, DesMatrix.NO_SWAP_ORACLE, Summary::e2eP99)),
                    SWAP_P99_VS_NO_SWAP, "×"));
            out.add(perLoad(name + ": eft mean ≤ " + SWAP_MEAN_VS_LC + "× least-connections", f,
                    (e, l) -> ratioOf(e.e2eMean(), ref(l, LC, Summary::e2eMean)), SWAP_MEAN_VS_LC, "×"));
            out.add(perLoad(name + ": eft model loads per 100 requests at steady state (second half of the trace)"
                    + " ≤ " + num(SWAP_LOADS_PER_100), f, (e, l) -> e.loadsPer100Steady(), SWAP_LOADS_PER_100, ""));
            StringBuilder figures = new StringBuilder();
            Boolean met = f.loads().isEmpty() ? null : Boolean.TRUE;
            for (DesMatrix.LoadRuns l : f.loads()) {
                Summary e = l.find(EFT);
                if (figures.length() > 0) {
                    figures.append("; ");
                }
                figures.append(Math.round(l.load() * 100)).append(" %: ");
                if (e == null) {
                    figures.append("not measured");
                    met = Boolean.FALSE.equals(met) ? met : null;
                    continue;
                }
                boolean all = e.errors() == 0;
                figures.append(String.format(Locale.ROOT, "%d of %d served%s, p99.9 queue wait %s s",
                        e.completed(), e.completed() + e.errors(), all ? "" : " (missed)",
                        SchedulingReport.sec(e.queueP999())));
                if (!all) {
                    met = Boolean.FALSE;
                }
            }
            out.add(new Line(name + ": eft serves every request (p99.9 queue wait reported)",
                    figures.length() == 0 ? "not measured" : figures.toString(), met));
            out.add(placementLine(name, f));
        }
        return out;
    }

    /**
     * eft's median end-to-end time against least-connections' on every fleet and load of the discrete-event
     * tables: met when no ratio exceeds 1.0. Figures: each fleet's worst ratio and every load that misses.
     */
    public static Line p50EveryFleet(List<DesMatrix.FleetRuns> fleets, long seed) {
        StringBuilder figures = new StringBuilder();
        List<String> missed = new ArrayList<>();
        Boolean met = null;
        for (DesMatrix.FleetRuns f : fleets) {
            double worst = Double.NaN;
            double worstLoad = 0;
            for (DesMatrix.LoadRuns l : f.loads()) {
                Summary e = l.find(EFT);
                Summary lc = l.find(LC);
                if (e == null || lc == null) {
                    continue;
                }
                double r = ratioOf(e.e2eP50(), lc.e2eP50());
                if (Double.isNaN(r)) {
                    continue;
                }
                met = met == null ? Boolean.TRUE : met;
                if (Double.isNaN(worst) || r > worst) {
                    worst = r;
                    worstLoad = l.load();
                }
                if (r > 1.0) {
                    met = Boolean.FALSE;
                    missed.add(String.format(Locale.ROOT, "%s at %d %%: %.3f×", f.fleet().name(),
                            Math.round(l.load() * 100), r));
                }
            }
            if (!Double.isNaN(worst)) {
                figures.append(figures.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT,
                        "%s worst %.2f× (%d %%)", f.fleet().name(), worst, Math.round(worstLoad * 100)));
            }
        }
        if (!missed.isEmpty()) {
            figures.append("; missed: ").append(String.join(", ", missed));
        }
        return new Line("every fleet and load (simulation, seed " + seed + "): eft p50 ≤ 1.0× least-connections p50",
                figures.length() == 0 ? "not measured" : figures.toString(), met);
    }

    /** The real-socket runs on a memory-limited fleet: eft's model loads per 100 requests (whole run). */
    static List<Line> swapReal(SchedulingReport.SwapSection swap) {
        List<Line> out = new ArrayList<>();
        for (SchedulingReport.SwapRun r : swap.runs()) {
            if (!r.run().policy().equals(EFT) && !r.run().policy().startsWith(EFT + "#")) {
                continue;
            }
            double v = r.loadsPer100();
            out.add(new Line(String.format(Locale.ROOT, "%s, %d %%, real sockets (%s): eft model loads per 100 "
                            + "requests ≤ %s (whole run, warm-up and start included)", swap.fleet().name(),
                    Math.round(swap.load() * 100), r.run().policy(), num(SWAP_LOADS_PER_100)),
                    Double.isNaN(v) ? "not measured (the simulators did not report loads)"
                            : String.format(Locale.ROOT, "%s loads ÷ %d requests = %.2f%s", r.loadsCounted().strip(),
                            r.served(), v, v > SWAP_LOADS_PER_100 ? " (missed)" : ""),
                    Double.isNaN(v) ? null : v <= SWAP_LOADS_PER_100));
            out.add(new Line(String.format(Locale.ROOT, "%s, %d %%, real sockets (%s): eft serves every request",
                    swap.fleet().name(), Math.round(swap.load() * 100), r.run().policy()),
                    String.format(Locale.ROOT, "%d errors of %d measured, p99.9 queue wait %s s",
                            r.run().real().errors(), r.run().real().completed() + r.run().real().errors(),
                            SchedulingReport.sec3(r.run().real().queueP999())), r.run().real().errors() == 0));
        }
        return out;
    }

    /**
     * Informational: eft's mean and p99 against the placement oracle at each load (no threshold: the issue's
     * targets are against the no-swap oracle).
     */
    private static Line placementLine(String name, DesMatrix.FleetRuns f) {
        StringBuilder figures = new StringBuilder();
        for (DesMatrix.LoadRuns l : f.loads()) {
            Summary e = l.find(EFT);
            Summary p = l.find(DesMatrix.PLACEMENT_ORACLE);
            if (figures.length() > 0) {
                figures.append("; ");
            }
            figures.append(Math.round(l.load() * 100)).append(" %: ");
            if (e == null || p == null) {
                figures.append("not measured");
            } else {
                figures.append(String.format(Locale.ROOT, "mean %.2f s vs %.2f s = %.2f×, p99 %.2f s vs %.2f s = "
                                + "%.2f×", e.e2eMean(), p.e2eMean(), ratioOf(e.e2eMean(), p.e2eMean()), e.e2eP99(),
                        p.e2eP99(), ratioOf(e.e2eP99(), p.e2eP99())));
            }
        }
        return new Line(name + ": (informational) eft mean and p99 ÷ the best static placement oracle",
                figures.length() == 0 ? "not measured" : figures.toString(), null, true);
    }

    private static Line perLoad(String target, DesMatrix.FleetRuns f,
                                java.util.function.ToDoubleBiFunction<Summary, DesMatrix.LoadRuns> figure,
                                double limit, String unit) {
        StringBuilder figures = new StringBuilder();
        Boolean met = f.loads().isEmpty() ? null : Boolean.TRUE;
        for (DesMatrix.LoadRuns l : f.loads()) {
            Summary e = l.find(EFT);
            double v = e == null ? Double.NaN : figure.applyAsDouble(e, l);
            if (figures.length() > 0) {
                figures.append("; ");
            }
            figures.append(Math.round(l.load() * 100)).append(" %: ");
            if (Double.isNaN(v)) {
                figures.append("not measured");
                met = Boolean.FALSE.equals(met) ? met : null;
            } else {
                figures.append(String.format(Locale.ROOT, "%.2f%s", v, unit));
                if (v > limit) {
                    figures.append(" (missed)");
                    met = Boolean.FALSE;
                }
            }
        }
        return new Line(target, figures.length() == 0 ? "not measured" : figures.toString(), met);
    }

    private static double ref(DesMatrix.LoadRuns l, String label, java.util.function.ToDoubleFunction<Summary> f) {
        Summary s = l.find(label);
        return s == null ? Double.NaN : f.applyAsDouble(s);
    }

    private static double ratioOf(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b <= 0 ? Double.NaN : a / b;
    }

    private static String num(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    private static Line ratioLine(String target, SeedSweep sweep, SeedSweep.Runs a, SeedSweep.Runs b,
                                  java.util.function.ToDoubleFunction<Summary> figure, double limit) {
        double va = figure.applyAsDouble(a.pooled());
        double vb = figure.applyAsDouble(b.pooled());
        double[] range = SeedSweep.Runs.ratioRange(a, b, figure);
        return new Line(target, String.format(Locale.ROOT, "%s: %.2f s vs %.2f s = %.2f× (per seed %.2f–%.2f×)",
                pooled(sweep, a), va, vb, va / vb, range[0], range[1]), va / vb <= limit);
    }

    private static String pooled(SeedSweep sweep, SeedSweep.Runs runs) {
        int n = runs == null ? 0 : runs.pooled().completed() / Math.max(1, sweep.seeds().size());
        return "pooled over " + sweep.seeds().size() + " seeds" + (n > 0 ? " × " + n + " requests" : "");
    }

    /** Prompt-estimate accuracy and where it was measured. */
    public record Labelled(String where, EstimateAccuracy accuracy) {
    }

    /** Policies on one fleet at one load with a priority mix. */
    public record PriorityRuns(String where, String fleet, double load, String mix, List<Summary> summaries) {
    }
}

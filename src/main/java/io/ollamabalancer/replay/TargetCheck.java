package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;

/**
 * The targets, judged against the benchmark's figures: each target with its measured figures and whether
 * it was met. A target whose figures were not produced (a fleet or run left out) is reported as not measured.
 * Stateless.
 */
public final class TargetCheck {
    static final String EFT = "eft";
    static final String LC = "least-connections";
    static final String RR = "round-robin";

    private TargetCheck() {
    }

    /** One line of the checklist; {@code met} is {@code null} when it could not be measured. */
    public record Line(String target, String figures, Boolean met) {
    }

    /**
     * @param fast311   the 3:1:1 fleet's runs (or {@code null})
     * @param equal     the equal-speed fleet's runs (or {@code null})
     * @param priorities the priority runs (simulated, and real when there is one)
     * @param estimates prompt-estimate accuracy, by where it was measured (real sockets first)
     */
    public static List<Line> judge(DesMatrix.FleetRuns fast311, DesMatrix.FleetRuns equal,
                                   List<PriorityRuns> priorities, List<Labelled> estimates) {
        List<Line> out = new ArrayList<>();
        DesMatrix.LoadRuns at70 = fast311 == null ? null : fast311.at(0.7);
        if (at70 != null) {
            Summary e = at70.find(EFT);
            Summary lc = at70.find(LC);
            double mean = e.e2eMean() / lc.e2eMean();
            double p99 = e.e2eP99() / lc.e2eP99();
            out.add(new Line("3:1:1, 70 %: eft mean ≤ 0.8× least-connections",
                    String.format("%.2f s vs %.2f s = %.2f×", e.e2eMean(), lc.e2eMean(), mean), mean <= 0.8));
            out.add(new Line("3:1:1, 70 %: eft p99 ≤ 0.6× least-connections",
                    String.format("%.2f s vs %.2f s = %.2f×", e.e2eP99(), lc.e2eP99(), p99), p99 <= 0.6));
        } else {
            out.add(new Line("3:1:1, 70 %: eft vs least-connections", "not measured", null));
        }
        DesMatrix.LoadRuns at50 = fast311 == null ? null : fast311.at(0.5);
        if (at50 != null) {
            Summary e = at50.find(EFT);
            Summary rr = at50.find(RR);
            double f = rr.e2eMean() / e.e2eMean();
            out.add(new Line("3:1:1, 50 %: eft mean ≥ 4× lower than round-robin",
                    String.format("%.2f s vs %.2f s: %.1f× lower", e.e2eMean(), rr.e2eMean(), f), f >= 4));
        }
        if (fast311 != null) {
            StringBuilder figures = new StringBuilder();
            boolean met = true;
            for (DesMatrix.LoadRuns l : fast311.loads()) {
                double f = l.find(EFT).e2eMean() / l.find(DesMatrix.ORACLE).e2eMean();
                met &= f <= 1.15;
                figures.append(String.format("%s%d %%: %.2f×", figures.length() == 0 ? "" : "; ",
                        Math.round(l.load() * 100), f));
            }
            out.add(new Line("3:1:1: eft mean ≤ 1.15× the oracle (every load)", figures.toString(), met));
        }
        if (equal != null) {
            StringBuilder figures = new StringBuilder();
            boolean met = true;
            for (DesMatrix.LoadRuns l : equal.loads()) {
                Summary e = l.find(EFT);
                Summary lc = l.find(LC);
                double mean = e.e2eMean() / lc.e2eMean();
                double p99 = e.e2eP99() / lc.e2eP99();
                met &= mean <= 1.0 && p99 <= 1.0;
                figures.append(String.format("%s%d %%: mean %.2f×, p99 %.2f×", figures.length() == 0 ? "" : "; ",
                        Math.round(l.load() * 100), mean, p99));
            }
            out.add(new Line("equal speeds: eft never worse than least-connections (mean and p99, every load)",
                    figures.toString(), met));
        }
        for (PriorityRuns priority : priorities) {
            for (Summary s : priority.summaries()) {
                if (!s.label().startsWith(EFT)) {
                    continue;
                }
                double f = s.queueP99High() / s.queueP99Low();
                out.add(new Line(String.format("%s, %d %%: p99 queue wait of high ≤ 0.2× low (%s, %s)",
                        priority.fleet(), Math.round(priority.load() * 100), s.label(), priority.where()),
                        String.format("%.2f s vs %.2f s = %.2f×", s.queueP99High(), s.queueP99Low(), f), f <= 0.2));
            }
        }
        for (Labelled l : estimates) {
            EstimateAccuracy a = l.accuracy();
            out.add(new Line("prompt estimate within 10 % of prompt_eval_count (median, after warm-up; " + l.where()
                    + ")", String.format("median error %.1f %% over %d requests (p90 %.1f %%, median bias %+.1f %%)",
                    a.median() * 100, a.requests(), a.p90() * 100, a.bias() * 100),
                    a.requests() == 0 ? null : a.median() <= 0.10));
        }
        return out;
    }

    /** Prompt-estimate accuracy and where it was measured. */
    public record Labelled(String where, EstimateAccuracy accuracy) {
    }

    /** Policies on one fleet at one load with a priority mix. */
    public record PriorityRuns(String where, String fleet, double load, String mix, List<Summary> summaries) {
    }
}

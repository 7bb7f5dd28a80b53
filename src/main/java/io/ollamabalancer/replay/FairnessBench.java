package io.ollamabalancer.replay;

import io.ollamabalancer.schedule.ShareFlow;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The fair-share scenario of the scheduling bench: one seeded trace at a high load, its requests split between two
 * API keys of equal weight, one sending ten times the other's rate; the same trace replayed (discrete-event, through
 * the real scheduler) with fair share on and off, and the light key's queue waits compared. Stateless.
 */
public final class FairnessBench {
    /** The heavy key sends this many requests for each of the light key's. */
    static final int RATIO = 10;
    static final ShareFlow HEAVY = new ShareFlow("heavy", 1);
    static final ShareFlow LIGHT = new ShareFlow("light", 1);

    private FairnessBench() {
    }

    /**
     * One replay's figures, in seconds.
     *
     * @param fairShare   whether fair share was on
     * @param lightP50    the light key's median queue wait
     * @param lightP99    the light key's p99 queue wait
     * @param heavyP99    the heavy key's p99 queue wait
     * @param e2eMean     mean end-to-end time over both keys
     * @param lightCount  the light key's completed requests
     * @param heavyCount  the heavy key's completed requests
     */
    public record Row(boolean fairShare, double lightP50, double lightP99, double heavyP99, double e2eMean,
                      int lightCount, int heavyCount) {
    }

    /**
     * The same trace without keys (one flow), for what fair share costs when there is nobody to be fair to.
     *
     * @param fairShare whether fair share was on
     */
    public record OneFlow(boolean fairShare, double e2eMean, double e2eP50, double e2eP99) {
    }

    /** Both replays of one trace with two keys, and both without keys. */
    public record Report(String trace, double load, int requests, String policy, Row on, Row off,
                         OneFlow oneOn, OneFlow oneOff) {
    }

    /** Replays {@code shape} on {@code fleet} at {@code load} with fair share on, then off. */
    public static Report run(SimFleet fleet, TraceShape shape, long seed, double load, String policy) {
        Trace unit = TraceGenerator.generate(fleet.name(), seed, shape, fleet.answers());
        Trace trace = unit.atRate(fleet.name() + " at " + Math.round(load * 100) + "%", fleet.rateFor(load, unit));
        boolean[] light = new boolean[trace.size()];
        Random rnd = new Random(seed * 31 + 7);
        for (int i = 0; i < light.length; i++) {
            light[i] = rnd.nextDouble() < 1.0 / (RATIO + 1);
        }
        Row on = row(true, VirtualReplay.runWithKeys(fleet, trace, policy, true, i -> light[i] ? LIGHT : HEAVY),
                light);
        Row off = row(false, VirtualReplay.runWithKeys(fleet, trace, policy, false, i -> light[i] ? LIGHT : HEAVY),
                light);
        return new Report(trace.name(), load, trace.size(), policy, on, off, oneFlow(fleet, trace, policy, true),
                oneFlow(fleet, trace, policy, false));
    }

    private static OneFlow oneFlow(SimFleet fleet, Trace trace, String policy, boolean fair) {
        Summary s = Summary.of(trace.name(), VirtualReplay.runWithKeys(fleet, trace, policy, fair,
                i -> ShareFlow.DEFAULT));
        return new OneFlow(fair, s.e2eMean(), s.e2eP50(), s.e2eP99());
    }

    private static Row row(boolean fair, List<Outcome> outcomes, boolean[] light) {
        List<Outcome> l = new ArrayList<>();
        List<Outcome> h = new ArrayList<>();
        List<Outcome> all = new ArrayList<>();
        for (int i = 0; i < outcomes.size(); i++) {
            Outcome o = outcomes.get(i);
            if (o.ok()) {
                (light[i] ? l : h).add(o);
                all.add(o);
            }
        }
        double[] lq = Stats.sorted(l, Outcome::queue);
        double[] hq = Stats.sorted(h, Outcome::queue);
        return new Row(fair, Stats.quantile(lq, 0.5), Stats.quantile(lq, 0.99), Stats.quantile(hq, 0.99),
                Stats.mean(Stats.sorted(all, Outcome::e2e)), l.size(), h.size());
    }

    /** The section of {@code bench/RESULTS.md}: the table, then the setup lines. */
    public static String markdown(Report r, List<String> setup) {
        StringBuilder b = new StringBuilder();
        b.append("## Fair share between API keys\n\n");
        b.append(String.format(Locale.ROOT, "Two keys of equal weight, the heavy one sending %d× the light one's "
                + "rate, together at %.0f %% of the fleet's capacity (%s, %d requests, policy %s); the same trace "
                + "replayed through the real scheduler (discrete-event simulation) with `--fair-share on` and "
                + "`off`. Queue wait is arrival to dispatch.%n%n", RATIO, r.load() * 100, r.trace(), r.requests(),
                r.policy()));
        b.append("| fair share | light key: queue wait p50 | light key: p99 | heavy key: p99 | e2e mean, both |"
                + " requests (light / heavy) |\n");
        b.append("|---|---|---|---|---|---|\n");
        for (Row row : List.of(r.on(), r.off())) {
            b.append(String.format(Locale.ROOT, "| %s | %.2f s | %.2f s | %.2f s | %.2f s | %d / %d |%n",
                    row.fairShare() ? "on" : "off", row.lightP50(), row.lightP99(), row.heavyP99(), row.e2eMean(),
                    row.lightCount(), row.heavyCount()));
        }
        b.append(String.format(Locale.ROOT, "%nThe light key's p99 queue wait with fair share is %.2f× the one "
                + "without.%n", r.on().lightP99() / r.off().lightP99()));
        b.append("\nThe same trace without keys (every request in the one default flow), for the cost of fair share "
                + "when there is nobody to be fair to (a backlog of one flow orders by its queued work instead of "
                + "the clock):\n\n| fair share | e2e mean | e2e p50 | e2e p99 |\n|---|---|---|---|\n");
        for (OneFlow f : List.of(r.oneOn(), r.oneOff())) {
            b.append(String.format(Locale.ROOT, "| %s | %.2f s | %.2f s | %.2f s |%n", f.fairShare() ? "on" : "off",
                    f.e2eMean(), f.e2eP50(), f.e2eP99()));
        }
        for (String s : setup) {
            b.append('\n').append(s).append('\n');
        }
        return b.toString();
    }
}

package io.ollamabalancer.replay;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.estimate.SpeedSnapshot;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.PlacementPlan;
import io.ollamabalancer.schedule.Scheduling;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the placement planner did over one discrete-event replay, in virtual time: each plan change (its utilisation
 * and the models it holds per backend), every so often the models each backend really holds and what waits per
 * model, and at the end the speeds the scheduler learned and the run's outcome. The tool for seeing why a plan stood
 * or moved (bench figures only show the outcome): this is how a plan that believed in a replica its preload never
 * loaded was found.
 *
 * <p>Single-threaded: one instance per replay, fed on the replay's thread; writes to the writer it is given.
 */
public final class PlanTimeline implements VirtualReplay.Watch {
    private final PrintWriter out;
    private final long everyNanos;
    private Map<String, Set<String>> lastHolds;
    private long nextState;

    /**
     * @param everySeconds how often to write what the backends hold and what waits (0: never)
     */
    private PlanTimeline(PrintWriter out, double everySeconds) {
        this.out = out;
        this.everyNanos = everySeconds > 0 ? (long) (everySeconds * 1e9) : Long.MAX_VALUE;
        this.nextState = everyNanos;
    }

    /** Replays {@code trace} on {@code fleet} with eft, writing the timeline, then the outcome. */
    public static void run(SimFleet fleet, Trace trace, double everySeconds, PrintWriter out) {
        PlanTimeline timeline = new PlanTimeline(out, everySeconds);
        VirtualReplay.Result r = VirtualReplay.runWatched(fleet, trace, TargetCheck.EFT, timeline);
        Summary s = Summary.of(TargetCheck.EFT, r.outcomes());
        out.printf(Locale.ROOT, "outcome: %d requests, %d failed, e2e mean %.2f s, p50 %.2f s, p99 %.2f s; "
                + "%d model loads, %d evictions%n", s.completed(), s.errors(), s.e2eMean(), s.e2eP50(), s.e2eP99(),
                r.loads(), r.evictions());
        out.flush();
    }

    @Override
    public void event(long nanos, Scheduling scheduling, Fleet fleet) {
        PlacementPlan plan = scheduling.predictor().planner().current();
        if (plan.restricted() && !plan.holds().equals(lastHolds)) {
            lastHolds = plan.holds();
            out.printf(Locale.ROOT, "t=%8.1f s  plan   utilisation %.2f  %s%n", nanos / 1e9, plan.utilisation(),
                    sorted(plan.holds()));
        }
        if (nanos >= nextState) {
            while (nextState <= nanos) {
                nextState += everyNanos;
            }
            Map<String, Set<String>> loaded = new TreeMap<>();
            Map<String, String> busy = new TreeMap<>();
            for (Backend b : fleet.all()) {
                loaded.put(b.name(), new TreeSet<>(b.loadedModels()));
                busy.put(b.name(), b.slotsInUse() + "/" + b.slotLimit() + (b.isAvailable() ? "" : " unavailable"));
            }
            Map<String, Integer> queued = new TreeMap<>();
            for (Map.Entry<String, ModelQueue> q : scheduling.scheduler().queues().entrySet()) {
                if (!q.getValue().isEmpty()) {
                    queued.put(q.getKey(), q.getValue().size());
                }
            }
            out.printf(Locale.ROOT, "t=%8.1f s  state  loaded %s  slots %s  queued %s%n", nanos / 1e9, loaded, busy,
                    queued);
        }
    }

    @Override
    public void done(long nanos, Scheduling scheduling, Fleet fleet) {
        out.printf(Locale.ROOT,
                "t=%8.1f s  end; learned speeds (single-stream decode tokens/s, slowdown, responses):%n", nanos / 1e9);
        for (SpeedSnapshot s : scheduling.costModel().snapshot()) {
            if (s.samples() > 0) {
                out.printf(Locale.ROOT, "  %s %s: %.1f, %.2f, %d%n", s.backend(), s.model(), s.decodeTps(),
                        s.slowdown(), s.samples());
            }
        }
    }

    private static Map<String, Set<String>> sorted(Map<String, Set<String>> holds) {
        Map<String, Set<String>> out = new TreeMap<>();
        holds.forEach((b, m) -> out.put(b, new TreeSet<>(m)));
        return out;
    }
}

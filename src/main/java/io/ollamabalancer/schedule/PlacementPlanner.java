package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendMemory;
import io.ollamabalancer.estimate.CostModel;
import io.ollamabalancer.estimate.Speeds;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Decides which models should be resident where, on a slow clock, from each model's recent demand
 * ({@link ModelDemand}: arrival rate × expected work), each backend's capacity (slots × learned speed against the
 * fleet's typical backend) and memory ({@link BackendMemory}: what fits at once, configured or learned).
 *
 * <p>The objective is the fluid model's utilisation of the busiest backend ({@link FluidLoad}) when each model's
 * work is split among the backends planned to hold it. A new plan starts from the last one (or, the first time,
 * from what is resident now), first gives every model with demand at least one backend (most demanded first, where
 * it leaves the busiest backend least busy), then improves it one move at a time (add a model where it fits, or
 * replace one): a move is kept only if it lowers the busiest utilisation by at least {@link #HYSTERESIS} of its value,
 * so a small or short change of demand (demand is smoothed over a minute) never moves a model, and every move that
 * is made costs one model load that the gain pays back. When every backend can hold every model it has, the plan is
 * unrestricted and routing is exactly as without memory limits.
 *
 * <p>Thread-safe: {@link #plan(long)} may be called from any thread; one caller at a time recomputes (the others
 * keep using the current plan), and the plan is published through a volatile field.
 */
public final class PlacementPlanner {
    /** Relative improvement of the busiest utilisation a change must bring. */
    static final double HYSTERESIS = 0.15;
    /** Absolute improvement a change must bring (at low load every plan is nearly idle: leave it). */
    static final double MIN_GAIN = 0.03;
    /** Demand below this many requests per second is no demand. */
    private static final double MIN_RATE = 1e-3;
    private static final int MAX_MOVES = 8;

    private final ModelDemand demand;
    private final CostModel cost;
    private final long intervalNanos;
    private volatile Supplier<Collection<Backend>> backends = List::of;
    private volatile PlacementPlan current = PlacementPlan.unrestricted();
    private final java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();

    public PlacementPlanner(ModelDemand demand, CostModel cost, long intervalNanos) {
        this.demand = demand;
        this.cost = cost;
        this.intervalNanos = intervalNanos;
    }

    /** Where the backends come from (the scheduler's fleet). */
    void backends(Supplier<Collection<Backend>> source) {
        backends = source;
    }

    /** The backends as the fleet has them now. */
    Collection<Backend> backendsNow() {
        return backends.get();
    }

    /** The plan now: the current one, recomputed first if it is older than the interval. */
    public PlacementPlan plan(long now) {
        PlacementPlan p = current;
        if ((p != PlacementPlan.unrestricted() && now - p.madeNanos() < intervalNanos) || !busy.compareAndSet(false, true)) {
            return p;
        }
        try {
            PlacementPlan next = compute(now, p);
            current = next;
            return next;
        } finally {
            busy.set(false);
        }
    }

    /** The last plan made, without recomputing. */
    public PlacementPlan current() {
        return current;
    }

    private PlacementPlan compute(long now, PlacementPlan previous) {
        List<Backend> fleet = new ArrayList<>();
        for (Backend b : backends.get()) {
            if (b.isAvailable()) {
                fleet.add(b);
            }
        }
        List<String> models = new ArrayList<>();
        for (String m : demand.models()) {
            if (demand.rate(m, now) >= MIN_RATE || demand.queued(m) > 0) {
                models.add(m);
            }
        }
        models.sort((a, b) -> Double.compare(demand.load(b, now), demand.load(a, now)));
        if (fleet.isEmpty() || models.isEmpty()) {
            return new PlacementPlan(Map.of(), 0, false, now);
        }
        int nb = fleet.size();
        int nm = models.size();
        double[] load = new double[nm];
        for (int m = 0; m < nm; m++) {
            load[m] = Math.max(demand.load(models.get(m), now), 1e-6);
        }
        double[] capacity = new double[nb];
        boolean[][] installed = new boolean[nb][nm];
        boolean restricted = false;
        for (int b = 0; b < nb; b++) {
            Backend be = fleet.get(b);
            capacity[b] = capacity(be, models);
            List<String> all = new ArrayList<>();
            for (int m = 0; m < nm; m++) {
                installed[b][m] = be.hasModel(models.get(m));
                if (installed[b][m]) {
                    all.add(models.get(m));
                }
            }
            restricted |= !fitsAll(be.memory(), all);
        }
        if (!restricted) {
            Map<String, Set<String>> holds = new HashMap<>();
            for (int b = 0; b < nb; b++) {
                Set<String> s = new HashSet<>();
                for (int m = 0; m < nm; m++) {
                    if (installed[b][m]) {
                        s.add(models.get(m));
                    }
                }
                holds.put(fleet.get(b).name(), s);
            }
            return new PlacementPlan(holds, FluidLoad.utilisation(load, capacity, installed), false, now);
        }
        boolean[][] kept = new boolean[nb][nm];
        for (int b = 0; b < nb; b++) {
            Backend be = fleet.get(b);
            Set<String> start = previous.restricted() ? previous.holds().getOrDefault(be.name(), Set.of())
                    : be.loadedModels();
            List<String> in = new ArrayList<>();
            for (int m = 0; m < nm; m++) {
                String model = models.get(m);
                if (installed[b][m] && start.contains(model) && be.memory().fitsSurely(in, model)) {
                    in.add(model);
                    kept[b][m] = true;
                }
            }
        }
        boolean[][] holds = improve(fleet, models, load, capacity, installed, kept);
        double u = FluidLoad.utilisation(load, capacity, holds);
        // A plan made afresh can reach what single moves from the current one cannot (two models trading places);
        // it replaces the current one only when it is clearly better.
        boolean[][] fresh = improve(fleet, models, load, capacity, installed, new boolean[nb][nm]);
        double uf = FluidLoad.utilisation(load, capacity, fresh);
        if (uf < u * (1 - HYSTERESIS) && u - uf >= MIN_GAIN) {
            holds = fresh;
            u = uf;
        }
        Map<String, Set<String>> out = new HashMap<>();
        for (int b = 0; b < nb; b++) {
            Set<String> s = new LinkedHashSet<>();
            for (int m = 0; m < nm; m++) {
                if (holds[b][m]) {
                    s.add(models.get(m));
                }
            }
            out.put(fleet.get(b).name(), s);
        }
        return new PlacementPlan(out, u, true, now);
    }

    /** {@code start} completed (every model with demand somewhere) and improved one move at a time. */
    private static boolean[][] improve(List<Backend> fleet, List<String> models, double[] load, double[] capacity,
                                       boolean[][] installed, boolean[][] start) {
        int nb = fleet.size();
        int nm = models.size();
        boolean[][] holds = start;
        // Coverage: every model with demand somewhere, most demanded first.
        for (int m = 0; m < nm; m++) {
            if (replicas(holds, m) > 0) {
                continue;
            }
            boolean[][] best = null;
            double bestU = Double.MAX_VALUE;
            for (int b = 0; b < nb; b++) {
                if (!installed[b][m]) {
                    continue;
                }
                boolean[][] trial = place(fleet.get(b), b, m, holds, models, load, true);
                if (trial == null) {
                    continue;
                }
                double u = FluidLoad.utilisation(load, capacity, trial);
                if (u < bestU) {
                    bestU = u;
                    best = trial;
                }
            }
            if (best != null) {
                holds = best;
            }
        }
        double u = FluidLoad.utilisation(load, capacity, holds);
        for (int move = 0; move < MAX_MOVES; move++) {
            boolean[][] best = null;
            double bestU = u;
            for (int b = 0; b < nb; b++) {
                for (int m = 0; m < nm; m++) {
                    if (!installed[b][m] || holds[b][m]) {
                        continue;
                    }
                    boolean[][] trial = place(fleet.get(b), b, m, holds, models, load, false);
                    if (trial == null) {
                        continue;
                    }
                    double t = FluidLoad.utilisation(load, capacity, trial);
                    if (t < bestU) {
                        bestU = t;
                        best = trial;
                    }
                }
            }
            if (best == null || bestU > u * (1 - HYSTERESIS) || u - bestU < MIN_GAIN) {
                break;
            }
            holds = best;
            u = bestU;
        }
        return holds;
    }

    /**
     * {@code holds} with model {@code m} added on backend {@code b}, evicting (least demanded first) what must go for
     * it to fit; null if it cannot fit, or (unless {@code mayUncover}) if an evicted model would be left nowhere.
     */
    private static boolean[][] place(Backend be, int b, int m, boolean[][] holds, List<String> models, double[] load,
                                     boolean mayUncover) {
        boolean[][] trial = new boolean[holds.length][];
        for (int i = 0; i < holds.length; i++) {
            trial[i] = holds[i].clone();
        }
        BackendMemory memory = be.memory();
        for (;;) {
            List<String> resident = new ArrayList<>();
            for (int x = 0; x < models.size(); x++) {
                if (trial[b][x]) {
                    resident.add(models.get(x));
                }
            }
            if (memory.fitsSurely(resident, models.get(m))) {
                break;
            }
            int victim = -1;
            for (int x = 0; x < models.size(); x++) {
                if (!trial[b][x]) {
                    continue;
                }
                boolean elsewhere = replicas(trial, x) > 1;
                if (!elsewhere && (!mayUncover || load[x] >= load[m])) {
                    continue;
                }
                if (victim < 0 || load[x] < load[victim]) {
                    victim = x;
                }
            }
            if (victim < 0) {
                return null;
            }
            trial[b][victim] = false;
        }
        trial[b][m] = true;
        return trial;
    }

    private static int replicas(boolean[][] holds, int m) {
        int n = 0;
        for (boolean[] h : holds) {
            if (h[m]) {
                n++;
            }
        }
        return n;
    }

    private static boolean fitsAll(BackendMemory memory, List<String> models) {
        List<String> in = new ArrayList<>();
        for (String m : models) {
            if (!memory.fitsSurely(in, m)) {
                return false;
            }
            in.add(m);
        }
        return true;
    }

    /** Work per second the backend completes with every slot busy, in units of the fleet's typical backend. */
    private double capacity(Backend b, List<String> models) {
        double ratio = 0;
        int n = 0;
        for (String m : models) {
            if (b.hasModel(m)) {
                Speeds s = cost.speeds(b.name(), m);
                Speeds typical = cost.fleetSpeeds(m);
                ratio += s.decodeTps() / typical.decodeTps() * s.parallelGain(b.maxConcurrency());
                n++;
            }
        }
        return n == 0 ? 1e-6 : Math.max(1e-6, ratio / n);
    }
}

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendMemory;
import io.ollamabalancer.estimate.AdditiveFit;
import io.ollamabalancer.estimate.CostModel;
import io.ollamabalancer.estimate.Speeds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Supplier;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Decides which models should be resident where, on a slow clock, from each model's recent demand
 * ({@link ModelDemand}: arrival rate × expected work, plus what waits in its queue spread over the payback horizon),
 * each backend's capacity (its learned speed factor × the gain of its slots, fitted with the models' factors from one
 * table of learned speeds, so demand and capacity share a unit) and memory ({@link BackendMemory}: what fits at
 * once, configured or learned).
 *
 * <p>Candidates come from the fluid model ({@link FluidDelay}: each model's work split among the backends planned
 * to hold it where it ends soonest, slow backends counted as slow, queueing as M/M/c; {@link FluidLoad}: the busiest
 * backend's utilisation, whether a plan keeps up): the current plan improved one move at a time (add a model where
 * it fits, or replace one), a plan made afresh, and every single move from each. While every model with demand has a
 * backend, the fluid model's best few are then judged against the current plan by {@link PlacementTrial}, a small
 * simulation of the next {@link #PAYBACK_LOADS} load times from what waits now, with the loads a change needs and
 * demand drawn around what was learned: the plan changes only to a candidate whose simulated mean latency is lower
 * by {@link #TRIAL_MARGIN} and surely so over the draws ({@link #TRIAL_SURE}). That is the hysteresis: a demand blip
 * (demand is smoothed over a minute, and few arrivals make an uncertain rate) or a change that does not pay back its
 * loads within the horizon never moves a model. Why trials rather than the fluid figures alone: these cannot tell
 * the best few placements apart and read a backlog as demand that never drains (bench/RESULTS.md). When a model has
 * no backend, coverage comes first (most demanded first, where the stretch is least without evicting another model's
 * only copy, unless moving that one is better by {@link #HYSTERESIS}). After a change the plan stands for
 * {@link #DWELL_LOADS} load times. A model that only one backend can hold, where that backend cannot hold it beside
 * what it has, takes turns there with the models it holds ({@link #turns}; the plan names it
 * {@linkplain PlacementPlan#waits waiting} while another has the memory). When every backend can hold every model
 * it has, the plan is unrestricted and routing is exactly as without memory limits.
 *
 * <p>Thread-safe: {@link #plan(long)} is called by the scheduler's sweep timer (never an event loop: a plan costs
 * max-flow bisections); one caller at a time recomputes, and the plan is published through a volatile field that
 * dispatching threads read ({@link #current()}).
 */
public final class PlacementPlanner {
    private static final Logger LOG = LoggerFactory.getLogger(PlacementPlanner.class);
    /** Relative improvement of the busiest utilisation a change must bring. */
    static final double HYSTERESIS = 0.15;
    /**
     * Relative improvement a plan made afresh must bring over the current one: more than a single move, because a
     * fresh plan also trades models between backends whose learned speeds differ by noise alone.
     */
    static final double FRESH_HYSTERESIS = 0.25;
    /** Absolute improvement a change must bring (at low load every plan is nearly idle: leave it). */
    static final double MIN_GAIN = 0.03;
    /**
     * Utilisation from which a plan cannot keep up: its queues grow however long it stands, so it gives way to any
     * plan that can, without the hysteresis (which exists to keep plans that work from trading noise for loads).
     */
    static final double OVERLOADED = 0.95;
    /** Demand below this many requests per second is no demand. */
    private static final double MIN_RATE = 1e-3;
    private static final int MAX_MOVES = 8;
    /** Rounds of alternating means fitting the speeds as backend × model factors (exact in one when complete). */
    private static final int FIT_ROUNDS = 8;
    /**
     * How long a plan stands before it may change again (other than to give an uncovered model a backend), in load
     * times: the time scale of placement is that of a model load (an 8 s load: 20 s), between 2 s and 60 s.
     */
    static final double DWELL_LOADS = 2.5;
    /** The horizon within which a change must pay back its loads, in load times (an 8 s load: 2 minutes). */
    static final double PAYBACK_LOADS = 15;
    /**
     * The longest turn a model holds memory that it cannot share while another model waits for it, in load times,
     * its own load included: long enough that a backend serving two models in turn spends most of its time serving
     * (two 8 s loads per 48 s turn each), short enough that the one waiting is not starved when the holder's demand
     * alone keeps the backend busy.
     */
    static final double TURN_LOADS = 6;
    /** How often the plan is remade while a model waits for a turn. */
    static final long WAITING_INTERVAL_NANOS = 250_000_000L;
    /**
     * Models take turns only where a switch costs at least this many requests' work (a load time against the mean
     * request's time): below it, a switch per request costs little more than the request itself, and holding requests
     * back for turns costs more than it saves (DES, five models on three one-model backends with 1 s loads: at 80 %
     * of capacity 17 s mean with switches per request, 108 s with turns).
     */
    static final double TURN_MIN_LOADS = 2;
    private volatile long changedNanos = Long.MIN_VALUE / 2;
    private volatile BiPredicate<String, String> runs = (backend, model) -> false;
    /** When each backend × model pair entered the plan (key: backend NUL model); touched only by the computing caller. */
    private final Map<String, Long> placedSince = new HashMap<>();

    private final ModelDemand demand;
    private final CostModel cost;
    private final long intervalNanos;
    private volatile Supplier<Collection<Backend>> backends = List::of;
    private volatile PlacementPlan current = PlacementPlan.unrestricted();
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile TrialReport lastTrial;

    public PlacementPlanner(ModelDemand demand, CostModel cost, long intervalNanos) {
        this.demand = demand;
        this.cost = cost;
        this.intervalNanos = intervalNanos;
    }

    /** Where the backends come from (the scheduler's fleet). */
    void backends(Supplier<Collection<Backend>> source) {
        backends = source;
    }

    /** How to tell whether a model has requests running on a backend (by names): the scheduler's ledger. */
    void runs(BiPredicate<String, String> running) {
        runs = running;
    }

    /** The backends as the fleet has them now. */
    Collection<Backend> backendsNow() {
        return backends.get();
    }

    /** The plan now: the current one, recomputed first if it is older than the interval. */
    public PlacementPlan plan(long now) {
        PlacementPlan p = current;
        // While a model waits for a turn, the plan is looked at more often: a turn ends when its holder has served
        // what waited for it, and every moment the memory is not passed on then is lost to both models.
        long every = p.waiting().isEmpty() ? intervalNanos : Math.min(intervalNanos, WAITING_INTERVAL_NANOS);
        if ((p != PlacementPlan.unrestricted() && now - p.madeNanos() < every) || !busy.compareAndSet(false, true)) {
            return p;
        }
        try {
            PlacementPlan next = compute(now, p);
            remember(next, now);
            current = next;
            return next;
        } finally {
            busy.set(false);
        }
    }

    /** The last trial's verdict (null before the first). */
    public TrialReport lastTrial() {
        return lastTrial;
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
        // Each model's load once: it is priced from the learned speeds whenever it is read (ModelDemand).
        List<String> seen = new ArrayList<>();
        List<Double> priced = new ArrayList<>();
        double drainSeconds = Math.max(10, PAYBACK_LOADS * loadNanos() / 1e9);
        for (String m : demand.models()) {
            int queued = demand.queued(m);
            if (demand.rate(m, now) >= MIN_RATE || queued > 0) {
                seen.add(m);
                // What waits must be served too, within the horizon a change pays back in: a backlog that grows
                // because the plan underrates a model (its speed or its share misjudged) raises its load until
                // the plan gives it more room, whatever the estimates say.
                double backlog = queued * demand.workNanos(m) / 1e9 / drainSeconds;
                priced.add(Math.max(demand.load(m, now) + backlog, 1e-6));
            }
        }
        if (fleet.isEmpty() || seen.isEmpty()) {
            return new PlacementPlan(Map.of(), 0, false, now);
        }
        int nb = fleet.size();
        int nm = seen.size();
        double[] unsorted = new double[nm];
        for (int m = 0; m < nm; m++) {
            unsorted[m] = priced.get(m);
        }
        Room room = room(fleet, seen, unsorted);
        // Most demanded first, by the load in the capacities' unit: coverage places models in this order and lets a
        // later model evict only a lighter one, so the order and the loads compared must be the same.
        Integer[] order = new Integer[nm];
        for (int m = 0; m < nm; m++) {
            order[m] = m;
        }
        Arrays.sort(order, (a, b) -> Double.compare(unsorted[b], unsorted[a]));
        List<String> models = new ArrayList<>(nm);
        double[] load = new double[nm];
        for (int m = 0; m < nm; m++) {
            models.add(seen.get(order[m]));
            load[m] = unsorted[order[m]];
        }
        boolean[][] installed = new boolean[nb][nm];
        boolean restricted = false;
        for (int b = 0; b < nb; b++) {
            Backend be = fleet.get(b);
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
            return new PlacementPlan(holds, FluidLoad.utilisation(load, room.capacity(), installed), false, now);
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
        Score sKept = Score.of(load, room, kept);
        Turns turns = turns(fleet, models, installed, kept, now);
        boolean covered = true;
        for (int m = 0; m < nm; m++) {
            covered &= replicas(kept, m) > 0;
        }
        long dwell = (long) Math.min(60e9, Math.max(2e9, DWELL_LOADS * loadNanos()));
        if (previous.restricted() && covered && now - changedNanos < dwell) {
            // Too soon after the last change for anything but coverage: demand and speeds are still settling.
            return new PlacementPlan(toMap(fleet, models, kept), sKept.busiest(), true, now);
        }
        boolean[][] holds = improve(fleet, models, load, room, installed, kept, turns);
        // A plan made afresh can reach what single moves from the current one cannot (two models trading places).
        // While models take turns, it starts from the turns being held, which no plan takes away.
        boolean[][] fresh = improve(fleet, models, load, room, installed,
                covered || !turns.taken() ? new boolean[nb][nm] : turns.held(), turns);
        if (covered) {
            // Every model has a place, so any change is a choice among placements that work, and the fluid model
            // cannot rank the best few of those: trials choose (PlacementTrial).
            boolean[][] chosen = trial(fleet, models, order, load, room, installed, kept, holds, fresh, now);
            if (!Arrays.deepEquals(chosen, kept)) {
                changedNanos = now;
            }
            double busiest = chosen == kept ? sKept.busiest() : Score.of(load, room, chosen).busiest();
            return new PlacementPlan(toMap(fleet, models, chosen), busiest, true, now);
        }
        // A model has no place: coverage first, then the fresh plan if it is clearly better and pays back its loads.
        Score sc = Score.of(load, room, holds);
        Score sf = Score.of(load, room, fresh);
        // (The fluid figures leave out the demand of models nobody holds: a plan that drops one is no better.)
        if (uncovered(fresh) <= uncovered(holds) && (sc.clearlyBeaten(sf, FRESH_HYSTERESIS) || sc.givesWayTo(sf))
                && paysBack(sc, sf, moves(holds, fresh), load, now)) {
            holds = fresh;
            sc = sf;
        }
        if (!Arrays.deepEquals(holds, kept)) {
            changedNanos = now;
            if (LOG.isDebugEnabled()) {
                // Why the plan moved (the scheduler logs what it moved to): the scores and what they rest on.
                LOG.debug("plan change to cover a model: kept {} -> {} (fresh {}, {} loads); capacity {} slowness {}"
                        + " load {} models {}", sKept, sc, holds == fresh, moves(kept, holds),
                        Arrays.toString(room.capacity()), Arrays.toString(room.slowness()), Arrays.toString(load),
                        models);
            }
        }
        return new PlacementPlan(toMap(fleet, models, holds), sc.busiest(), true, now,
                waiting(models, holds, turns.confined()));
    }

    /**
     * The turns of the plan being made. Only a model that a single backend can hold takes turns (it has nowhere else
     * to go, so it must share that backend's memory with what that backend holds), and only where a switch costs at
     * least {@link #TURN_MIN_LOADS} requests' work. Held, a pair no plan may end now: a model's only copy, which still
     * has requests waiting for it or running there, and which was placed there less than {@link #TURN_LOADS} load
     * times ago. Such a model is served before the memory passes to a confined model that waits for it (a polling
     * system's exhaustive service, bounded so that nothing starves): passing it on per request would cost a load per
     * request.
     *
     * <p>Why not every model left without a place: where models fit on several backends (four models on three
     * one-model backends), turns taken on whichever backend was idle moved the model in most demand off the fast
     * backend and never back (DES: 263 s mean at 60 % on one trace seed, 20 s without turns); such fleets keep
     * switching per request.
     */
    private Turns turns(List<Backend> fleet, List<String> models, boolean[][] installed, boolean[][] kept, long now) {
        int nb = fleet.size();
        int nm = models.size();
        boolean[][] held = new boolean[nb][nm];
        boolean[] queued = new boolean[nm];
        boolean[] confined = new boolean[nm];
        boolean any = false;
        for (int m = 0; m < nm; m++) {
            confined[m] = homes(fleet, models, installed, m) == 1;
            any |= confined[m];
        }
        if (!any || !turnsPay(models, now)) {
            return new Turns(kept, held, queued, new boolean[nm]);
        }
        double turn = TURN_LOADS * loadNanos();
        for (int m = 0; m < nm; m++) {
            queued[m] = demand.queued(models.get(m)) > 0;
            if (replicas(kept, m) != 1) {
                continue;
            }
            for (int b = 0; b < nb; b++) {
                if (kept[b][m]) {
                    String backend = fleet.get(b).name();
                    Long since = placedSince.get(key(backend, models.get(m)));
                    held[b][m] = (queued[m] || runs.test(backend, models.get(m)))
                            && (since == null || now - since < turn);
                }
            }
        }
        return new Turns(kept, held, queued, confined);
    }

    /** How many backends have model {@code m} installed and could hold it alone. */
    private static int homes(List<Backend> fleet, List<String> models, boolean[][] installed, int m) {
        int n = 0;
        for (int b = 0; b < fleet.size(); b++) {
            if (installed[b][m] && fleet.get(b).memory().fitsSurely(List.of(), models.get(m))) {
                n++;
            }
        }
        return n;
    }

    /**
     * Whether a switch of models costs at least {@link #TURN_MIN_LOADS} requests' work: the longest load time in
     * demand against the mean request's work, weighted by the models' rates.
     */
    private boolean turnsPay(List<String> models, long now) {
        double rate = 0;
        double work = 0;
        for (String m : models) {
            double r = demand.rate(m, now);
            rate += r;
            work += r * demand.workNanos(m);
        }
        return rate > 0 && loadNanos() >= TURN_MIN_LOADS * work / rate;
    }

    /**
     * The models that take turns and that {@code holds} places nowhere: they wait for their turn (their requests are
     * not started elsewhere meanwhile, {@link PlacementPlan#waits}).
     */
    private static Set<String> waiting(List<String> models, boolean[][] holds, boolean[] confined) {
        Set<String> out = new HashSet<>();
        for (int m = 0; m < models.size(); m++) {
            if (confined[m] && replicas(holds, m) == 0) {
                out.add(models.get(m));
            }
        }
        return out;
    }

    /** Notes when each pair of {@code plan} entered it (a turn's start), forgetting the pairs it no longer has. */
    private void remember(PlacementPlan plan, long now) {
        Set<String> in = new HashSet<>();
        for (Map.Entry<String, Set<String>> e : plan.holds().entrySet()) {
            for (String m : e.getValue()) {
                in.add(key(e.getKey(), m));
            }
        }
        placedSince.keySet().retainAll(in);
        for (String k : in) {
            placedSince.putIfAbsent(k, now);
        }
    }

    private static String key(String backend, String model) {
        return backend + '\0' + model;
    }

    /**
     * The turns of a plan being made: {@code kept}, the pairs kept from the plan before; {@code held[b][m]}, a pair no
     * change may take away now ({@link #turns}); {@code queued[m]}, whether requests of model m wait (such a model may
     * take memory from a kept pair whose turn is over even from a model in more demand: that one was served and, if
     * it returns, waits its turn; a pair placed by the plan being made has not had its turn yet); {@code confined[m]},
     * whether model m takes turns ({@link #turns}: otherwise it neither holds nor waits for any).
     */
    private record Turns(boolean[][] kept, boolean[][] held, boolean[] queued, boolean[] confined) {
        /** Whether any model takes turns. */
        boolean taken() {
            for (boolean c : confined) {
                if (c) {
                    return true;
                }
            }
            return false;
        }
    }

    /** How much lower a candidate's simulated mean latency must be than the current placement's to replace it. */
    static final double TRIAL_MARGIN = 0.05;
    /** How many standard errors of the paired differences over the draws of demand that advantage must be. */
    static final double TRIAL_SURE = 2;
    /** Draws of demand per trial (each judged on every candidate). */
    static final int TRIAL_REPS = 8;
    /** Candidates judged besides the current placement, the fluid model's best. */
    static final int TRIAL_CANDIDATES = 8;

    /**
     * The placement the trials choose: the current one unless a candidate (the fluid model's best few among the
     * improved plan, the fresh one and every single move from each) lowers the simulated mean latency over the
     * payback horizon by {@link #TRIAL_MARGIN} and surely (its paired advantage over the draws of demand at least
     * {@link #TRIAL_SURE} standard errors), and fresh draws judging it alone against the current one agree.
     */
    private boolean[][] trial(List<Backend> fleet, List<String> models, Integer[] order, double[] load, Room room,
                              boolean[][] installed, boolean[][] kept, boolean[][] holds, boolean[][] fresh, long now) {
        int nb = fleet.size();
        int nm = models.size();
        List<boolean[][]> pool = new ArrayList<>();
        List<Double> fluid = new ArrayList<>();
        for (boolean[][] base : List.of(holds, fresh, kept)) {
            offer(pool, fluid, base, load, room);
            for (int b = 0; b < nb; b++) {
                for (int m = 0; m < nm; m++) {
                    if (installed[b][m] && !base[b][m]) {
                        boolean[][] t = place(fleet.get(b), b, m, base, models, load, null);
                        if (t != null) {
                            offer(pool, fluid, t, load, room);
                        }
                    }
                }
            }
        }
        Integer[] rank = new Integer[pool.size()];
        for (int i = 0; i < rank.length; i++) {
            rank[i] = i;
        }
        Arrays.sort(rank, (a, b) -> Double.compare(fluid.get(a), fluid.get(b)));
        List<boolean[][]> candidates = new ArrayList<>();
        candidates.add(kept);
        for (int i = 0; i < rank.length && candidates.size() <= TRIAL_CANDIDATES; i++) {
            if (!Arrays.deepEquals(pool.get(rank[i]), kept)) {
                candidates.add(pool.get(rank[i]));
            }
        }
        if (candidates.size() == 1) {
            return kept;
        }
        double[] speed = new double[nb];
        for (int b = 0; b < nb; b++) {
            speed[b] = room.capacity()[b] * (1 + room.crowding()[b]) / room.slots()[b];
        }
        double[] rate = new double[nm];
        double[] arrivals = new double[nm];
        double[] work = new double[nm];
        int[] queued = new int[nm];
        double[] loadSeconds = new double[nm];
        for (int m = 0; m < nm; m++) {
            String model = models.get(m);
            rate[m] = demand.rate(model, now);
            arrivals[m] = demand.arrivals(model, now);
            work[m] = demand.workNanos(model) / 1e9 * room.scale()[order[m]];
            queued[m] = demand.queued(model);
            loadSeconds[m] = loadNanos(model) / 1e9;
        }
        int[][] running = new int[nb][];
        for (int b = 0; b < nb; b++) {
            running[b] = running(Math.min(room.slots()[b], fleet.get(b).slotsInUse()), kept[b], rate);
        }
        double horizon = Math.max(10, PAYBACK_LOADS * loadNanos() / 1e9);
        PlacementTrial.Fleet trialFleet = new PlacementTrial.Fleet(speed, room.slots(), room.crowding());
        PlacementTrial.Demand trialDemand = new PlacementTrial.Demand(rate, arrivals, work, queued, loadSeconds,
                running);
        PlacementTrial.Verdict v = PlacementTrial.judge(trialFleet, trialDemand, kept, candidates, horizon,
                TRIAL_REPS, now);
        int best = 0;
        for (int c = 1; c < candidates.size(); c++) {
            if (v.mean(c) < v.mean(best)) {
                best = c;
            }
        }
        boolean change = best != 0 && clearlyBetter(v, 0, best);
        if (change) {
            // The best of several candidates judged on the same draws is the one those draws flattered most (the
            // winner's curse): it replaces the plan only if fresh draws, judging it alone against the plan, agree.
            PlacementTrial.Verdict again = PlacementTrial.judge(trialFleet, trialDemand, kept,
                    List.of(kept, candidates.get(best)), horizon, TRIAL_REPS, ~now);
            change = clearlyBetter(again, 0, 1);
        }
        lastTrial = new TrialReport(v.mean(0), v.mean(best), best == 0 ? 0 : v.sureness(0, best),
                candidates.size() - 1, toMap(fleet, models, candidates.get(best)), change, now);
        if (!change) {
            return kept;
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("plan change by trial: {} s -> {} s (sure {}, {} loads) models {}", v.mean(0), v.mean(best),
                    v.sureness(0, best), moves(kept, candidates.get(best)), models);
        }
        return candidates.get(best);
    }

    /** Whether candidate {@code c} beats {@code base} by {@link #TRIAL_MARGIN} and {@link #TRIAL_SURE}. */
    private static boolean clearlyBetter(PlacementTrial.Verdict v, int base, int c) {
        return v.mean(c) <= v.mean(base) * (1 - TRIAL_MARGIN) && v.sureness(base, c) >= TRIAL_SURE;
    }

    /**
     * What a backend runs now, by model: its {@code busy} slots shared among the models it holds by their rates (the
     * exact split is the scheduler's; what a trial needs is which backend a change must wait for).
     */
    static int[] running(int busy, boolean[] holds, double[] rate) {
        int[] out = new int[holds.length];
        double sum = 0;
        for (int m = 0; m < holds.length; m++) {
            sum += holds[m] ? rate[m] : 0;
        }
        for (int i = 0; i < busy && sum > 0; i++) {
            // The i-th slot's point on the held models' cumulative rate, and the model whose share covers it.
            double u = (i + 0.5) / busy * sum;
            int to = -1;
            for (int m = 0; m < holds.length && (to < 0 || u >= 0); m++) {
                if (holds[m] && rate[m] > 0) {
                    to = m;
                    u -= rate[m];
                }
            }
            out[to]++;
        }
        return out;
    }

    /** Adds {@code holds} to the pool unless it is there already or leaves a model nowhere. */
    private static void offer(List<boolean[][]> pool, List<Double> fluid, boolean[][] holds, double[] load,
                              Room room) {
        if (uncovered(holds) > 0) {
            return;
        }
        for (boolean[][] p : pool) {
            if (Arrays.deepEquals(p, holds)) {
                return;
            }
        }
        pool.add(holds);
        // The stretch alone ranks candidates (the utilisation's max flow is most of a Score's cost).
        fluid.add(FluidDelay.meanStretch(load, room.capacity(), room.slots(), room.slowness(), room.crowding(), holds));
    }

    private static Map<String, Set<String>> toMap(List<Backend> fleet, List<String> models, boolean[][] holds) {
        Map<String, Set<String>> out = new HashMap<>();
        for (int b = 0; b < fleet.size(); b++) {
            Set<String> s = new LinkedHashSet<>();
            for (int m = 0; m < models.size(); m++) {
                if (holds[b][m]) {
                    s.add(models.get(m));
                }
            }
            out.put(fleet.get(b).name(), s);
        }
        return out;
    }

    /** Models {@code to} places where {@code from} did not: each is one load. */
    private static int moves(boolean[][] from, boolean[][] to) {
        int n = 0;
        for (int b = 0; b < from.length; b++) {
            for (int m = 0; m < from[b].length; m++) {
                if (to[b][m] && !from[b][m]) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Whether going from {@code from} to {@code to} at the price of {@code moves} loads pays back within
     * {@link #PAYBACK_LOADS} load times: the waiting it saves (the fleet's work rate × the change of its mean stretch,
     * {@link FluidDelay}) against what the loads cost (each stops a backend for a load time, and the requests
     * arriving there meanwhile wait for it), stretched by the new plan's M/M/1 stretch 1 / (1 − u) of its busiest
     * backend too: the work the loads put off is served from the new plan's spare capacity, so a change into a plan
     * near saturation pays back slowly (DES, swap-zipf at 80 %: a reshuffle of six loads into a plan at 0.93 left a
     * backlog that took minutes to drain).
     */
    private boolean paysBack(Score from, Score to, int moves, double[] load, long now) {
        if (moves == 0) {
            return true;
        }
        double work = 0;
        for (double d : load) {
            work += d;
        }
        double loadSeconds = loadNanos() / 1e9;
        double saved = work * from.gainTo(to) * Math.max(10, PAYBACK_LOADS * loadSeconds);
        double rate = 0;
        for (String m : demand.models()) {
            rate += demand.rate(m, now);
        }
        double spent = moves * loadSeconds * (1 + rate * loadSeconds / Math.max(1, backends.get().size()))
                * stretch(to.busiest());
        return saved > spent;
    }

    /** The longest learned load time of a model in demand (the hint before any load was seen). */
    private double loadNanos() {
        double load = 0;
        for (String m : demand.models()) {
            load = Math.max(load, cost.fleetSpeeds(m).loadNanos());
        }
        return load > 0 ? load : cost.hints().loadNanos();
    }

    /** {@code model}'s learned load time (the hint before any load of it was seen). */
    private double loadNanos(String model) {
        double l = cost.fleetSpeeds(model).loadNanos();
        return l > 0 ? l : cost.hints().loadNanos();
    }

    /** 1 / (1 − u), continued past 0.95 by its tangent: overloaded plans still differ by how overloaded. */
    private static double stretch(double u) {
        return u <= 0.95 ? 1 / (1 - u) : 20 + 400 * (u - 0.95);
    }


    /**
     * How good a placement is: the busiest backend's utilisation ({@link FluidLoad}: whether it keeps up) and the
     * mean stretch of the work ({@link FluidDelay}: how long requests take, slow backends counted as slow). Plans
     * are compared by the stretch; the utilisation decides only whether a plan cannot keep up ({@link #OVERLOADED}).
     */
    record Score(double busiest, double stretch) {
        static Score of(double[] load, Room room, boolean[][] holds) {
            return new Score(FluidLoad.utilisation(load, room.capacity(), holds),
                    FluidDelay.meanStretch(load, room.capacity(), room.slots(), room.slowness(), room.crowding(),
                            holds));
        }

        /**
         * Whether two plans are both overloaded. They are then compared by their busiest utilisation, how far they
         * fall behind: past saturation the stretch is an extrapolation whose slope makes a 15 % change of it a tiny
         * change of load, so the hysteresis would no longer hold plans still (DES, swap at 80 %: three times the
         * loads).
         */
        private boolean bothOverloaded(Score other) {
            return busiest >= OVERLOADED && other.busiest >= OVERLOADED;
        }

        /** Whether {@code next} is better than this at all. */
        boolean beatenBy(Score next) {
            return next.stretch < stretch;
        }

        /** What going to {@code next} saves per unit of work: the change of the mean stretch. */
        double gainTo(Score next) {
            return stretch - next.stretch;
        }

        /**
         * Whether {@code next} beats this by the relative {@code hysteresis} and {@link #MIN_GAIN}: in its stretch,
         * and, between overloaded plans, in its busiest utilisation too.
         */
        boolean clearlyBeaten(Score next, double hysteresis) {
            boolean faster = next.stretch <= stretch * (1 - hysteresis) && stretch - next.stretch >= MIN_GAIN;
            return faster && (!bothOverloaded(next)
                    || next.busiest <= busiest * (1 - hysteresis) && busiest - next.busiest >= MIN_GAIN);
        }

        /** Whether this plan cannot keep up and {@code next} can: it gives way. */
        boolean givesWayTo(Score next) {
            return busiest >= OVERLOADED && next.busiest < OVERLOADED;
        }
    }

    /**
     * The backends as the plan sees them: work per second with every slot busy, slots, how many times longer a job
     * takes alone than on the fastest, and how much longer with every slot busy than alone, less one (indexed like
     * the fleet).
     */
    private record Room(double[] capacity, int[] slots, double[] slowness, double[] crowding, double[] scale) {
    }

    /** {@code start} completed (every model with demand somewhere) and improved one move at a time. */
    private static boolean[][] improve(List<Backend> fleet, List<String> models, double[] load, Room room,
                                       boolean[][] installed, boolean[][] start, Turns turns) {
        int nb = fleet.size();
        int nm = models.size();
        boolean[][] holds = start;
        // Coverage: every model with demand somewhere, most demanded first. Where it fits without leaving another
        // model nowhere, it goes where the work's mean stretch is lowest. Evicting another's only copy (which is then
        // placed again elsewhere) must be clearly better than that: the fluid figures of an arrangement differ by
        // noise between backends of about the same speed, and each eviction costs one more model load.
        for (int m = 0; m < nm; m++) {
            if (replicas(holds, m) > 0) {
                continue;
            }
            boolean[][] best = bestPlace(fleet, models, load, room, installed, holds, m);
            Score bestScore = best == null ? null : Score.of(load, room, best);
            boolean bestEvicts = false;
            for (int b = 0; b < nb; b++) {
                if (!installed[b][m]) {
                    continue;
                }
                boolean[][] trial = place(fleet.get(b), b, m, holds, models, load, turns);
                if (trial == null) {
                    continue;
                }
                int evicted = uncovered(trial) - uncovered(holds) + 1;
                if (evicted == 0) {
                    continue;
                }
                // Each model it evicted placed again where it fits without evicting another's only copy.
                for (int x = 0; x < nm; x++) {
                    if (replicas(holds, x) > 0 && replicas(trial, x) == 0) {
                        boolean[][] again = bestPlace(fleet, models, load, room, installed, trial, x);
                        if (again != null) {
                            trial = again;
                        }
                    }
                }
                Score sc = Score.of(load, room, trial);
                boolean better = best == null || uncovered(trial) < uncovered(best)
                        || uncovered(trial) == uncovered(best) && (bestEvicts ? bestScore.beatenBy(sc)
                        : bestScore.clearlyBeaten(sc, HYSTERESIS));
                if (better) {
                    bestScore = sc;
                    best = trial;
                    bestEvicts = true;
                }
            }
            if (best != null) {
                holds = best;
            }
        }
        Score now = Score.of(load, room, holds);
        for (int move = 0; move < MAX_MOVES; move++) {
            boolean[][] best = null;
            Score bestScore = now;
            for (int b = 0; b < nb; b++) {
                for (int m = 0; m < nm; m++) {
                    if (!installed[b][m] || holds[b][m]) {
                        continue;
                    }
                    boolean[][] trial = place(fleet.get(b), b, m, holds, models, load, null);
                    if (trial == null) {
                        continue;
                    }
                    Score t = Score.of(load, room, trial);
                    if (bestScore.beatenBy(t)) {
                        bestScore = t;
                        best = trial;
                    }
                }
            }
            if (best == null || !(now.clearlyBeaten(bestScore, HYSTERESIS) || now.givesWayTo(bestScore))) {
                break;
            }
            holds = best;
            now = bestScore;
        }
        return holds;
    }

    /**
     * {@code holds} with model {@code m} placed where the work's mean stretch is lowest among the backends it fits on
     * without leaving another model nowhere; null if there is none.
     */
    private static boolean[][] bestPlace(List<Backend> fleet, List<String> models, double[] load, Room room,
                                         boolean[][] installed, boolean[][] holds, int m) {
        boolean[][] best = null;
        Score bestScore = null;
        for (int b = 0; b < fleet.size(); b++) {
            if (!installed[b][m]) {
                continue;
            }
            boolean[][] trial = place(fleet.get(b), b, m, holds, models, load, null);
            if (trial == null) {
                continue;
            }
            Score st = Score.of(load, room, trial);
            if (bestScore == null || bestScore.beatenBy(st)) {
                bestScore = st;
                best = trial;
            }
        }
        return best;
    }

    /**
     * {@code holds} with model {@code m} added on backend {@code b}, evicting (least demanded first) what must go for
     * it to fit; null if it cannot fit, or if an evicted model would be left nowhere, unless {@code turns} (not null)
     * lets it: another model's only copy may go when {@code m} is in more demand, or, when {@code m} takes turns, when
     * that copy's turn is not {@linkplain Turns#held held} and either requests of {@code m} wait and that copy was
     * there before (the memory passes to them: the turns of a polling system) or {@code m} is in more demand.
     */
    private static boolean[][] place(Backend be, int b, int m, boolean[][] holds, List<String> models, double[] load,
                                     Turns turns) {
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
                boolean turn = turns != null && turns.confined()[m];
                if (!elsewhere && (turns == null || turn && turns.held()[b][x]
                        || !(turn && turns.queued()[m] && turns.kept()[b][x]) && load[x] >= load[m])) {
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

    /** How many models (each with demand) {@code holds} places nowhere. */
    private static int uncovered(boolean[][] holds) {
        int n = 0;
        for (int m = 0; m < holds[0].length; m++) {
            if (replicas(holds, m) == 0) {
                n++;
            }
        }
        return n;
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

    /**
     * Work per second each backend completes with every slot busy, with {@code load} (each model's work per second,
     * priced on the cost model's typical backend) restated in the same units. The learned decode speeds of every
     * backend × model pair that may be planned are fitted as backend factor × model factor (in logs, each pair
     * weighted by the answers it has seen, so measured pairs outweigh priors); a backend's capacity is its factor
     * times the gain of running its slots at once, and a model's load is rescaled from its typical-backend speed to
     * its factor. Both sides then come from one fit: the cost model's own per-model reference can drift from the
     * pairs' measured speeds on a partitioned fleet (each model seen on other backends), and a load measured in one
     * unit against a capacity in another reads a workable plan as overloaded, or the reverse.
     *
     * <p>Absolute, not normalised to the fleet's mean: a plan whose busiest utilisation reads 1 must be one that
     * cannot keep up, or an overloaded plan cannot be told from one that merely looks busy ({@link #OVERLOADED}).
     */
    private Room room(List<Backend> fleet, List<String> models, double[] load) {
        int nb = fleet.size();
        int nm = models.size();
        double[][] logSpeed = new double[nb][nm];
        double[][] weight = new double[nb][nm];
        double[] logGain = new double[nb];
        int[] count = new int[nb];
        for (int b = 0; b < nb; b++) {
            Backend be = fleet.get(b);
            for (int m = 0; m < nm; m++) {
                if (!be.hasModel(models.get(m))) {
                    continue;
                }
                Speeds s = cost.speeds(be.name(), models.get(m));
                logSpeed[b][m] = Math.log(s.decodeTps());
                weight[b][m] = 1 + Math.min(s.samples(), 100);
                logGain[b] += Math.log(s.parallelGain(be.maxConcurrency()));
                count[b]++;
            }
        }
        AdditiveFit.Parts parts = AdditiveFit.fit(logSpeed, weight, FIT_ROUNDS, false);
        double[] backendPart = parts.rows();
        double[] modelPart = parts.columns();
        double[] scale = new double[nm];
        for (int m = 0; m < nm; m++) {
            // load[m] is seconds at the cost model's typical speed for m; at speed exp(modelPart) it is this much.
            scale[m] = cost.fleetSpeeds(models.get(m)).decodeTps() / Math.exp(modelPart[m]);
            load[m] *= scale[m];
        }
        double[] capacity = new double[nb];
        int[] slots = new int[nb];
        double fastest = Double.NEGATIVE_INFINITY;
        for (int b = 0; b < nb; b++) {
            capacity[b] = count[b] == 0 ? 1e-6 : Math.max(1e-6, Math.exp(backendPart[b] + logGain[b] / count[b]));
            slots[b] = Math.max(1, fleet.get(b).maxConcurrency());
            if (count[b] > 0) {
                fastest = Math.max(fastest, backendPart[b]);
            }
        }
        double[] slowness = new double[nb];
        double[] crowding = new double[nb];
        for (int b = 0; b < nb; b++) {
            slowness[b] = count[b] == 0 ? 1 : Math.max(1, Math.exp(fastest - backendPart[b]));
            crowding[b] = count[b] == 0 ? 0 : Math.max(0, slots[b] / Math.exp(logGain[b] / count[b]) - 1);
        }
        return new Room(capacity, slots, slowness, crowding, scale);
    }
}

package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.estimate.Speeds;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Earliest estimated finish time, with late binding: the default policy.
 *
 * <p>It plans the first {@code lookahead} waiting requests (of all models, in queue order) as a list schedule over
 * virtual slot-free times: each busy slot frees when its job is predicted to end ({@link Predictor#slotForecast}),
 * and each request in turn is placed where it would finish first, counting the wait for a slot, the load (or
 * reload) if the model is cold there, and that backend's speed for the model at the concurrency it would see.
 * A request placed on a busy backend reserves that slot in the plan and stays queued; the first request whose best
 * place is free now is started. So a request waits for a faster busy backend when that finishes it sooner than a
 * slow idle one, and a request behind it may still take the idle one.
 *
 * <p>A chat whose prefix a backend served recently goes there when its finish is within the configured margin of
 * the best. How much the per-request predictions are trusted comes from {@link Predictor#confidence()}: with poor
 * predictions the plan uses mean job sizes and memoryless remaining times, i.e. speed-aware
 * shortest-expected-delay. Ties rotate, so equal backends share evenly.
 *
 * <p>Thread-safe: each decision works on its own plan; shared state is read from the {@link Predictor}.
 */
public final class EftPolicy implements DispatchPolicy {
    private final Predictor predictor;
    private final double affinityMargin;
    private final int lookahead;
    private final AtomicInteger rotation = new AtomicInteger();
    /** Start on a free slot now when waiting for the best backend would finish sooner by at most this share of the job. */
    static final double START_NOW_TOLERANCE = 0.25;
    /**
     * How much wider that share is while the two backends' speeds rest on few responses: times {@code 1 + UNSURE /
     * (1 + n)}, n the fewer responses either was learned from (see {@link #startNowTolerance}).
     */
    static final double UNSURE = 3;

    public EftPolicy(Predictor predictor, double affinityMargin, int lookahead) {
        this.predictor = predictor;
        this.affinityMargin = affinityMargin;
        this.lookahead = lookahead;
    }

    @Override
    public Backend choose(PendingRequest request, List<Backend> candidates) {
        Selection s = plan(QueueWindow.of(request, candidates));
        return s == null ? null : s.backend();
    }

    @Override
    public Selection select(QueueWindow window) {
        return plan(window);
    }

    @Override
    public int lookahead() {
        return lookahead;
    }

    /** A model this decision plans to load on a backend, ready there at {@code readyAt}. */
    private record Switch(String model, long readyAt) {
    }

    private Selection plan(QueueWindow window) {
        long now = predictor.now();
        double w = predictor.confidence();
        PlacementPlan placement = predictor.placement();
        // Sized for the first request's candidates (often the only ones); a default-sized map was the largest
        // allocation of the decision. Switches are rare (a cold start planned): made when one is.
        Map<Backend, SlotForecast> slots = new IdentityHashMap<>(window.has(0) ? window.candidates(0).size() : 1);
        Map<Backend, Switch> switches = null;
        List<Row> rows = new ArrayList<>(4);
        int turn = rotation.getAndIncrement();
        // The window bounds itself: the lookahead, then the head of each model with nothing in it yet.
        for (int i = 0; window.has(i); i++) {
            PendingRequest r = window.request(i);
            List<Backend> candidates = window.candidates(i);
            Row row = row(rows, candidates, r);
            String affine = predictor.affinityBackend(r, now);
            double output = predictor.expectedOutput(r, w);
            Backend best = null;
            long bestStart = 0;
            long bestFinish = Long.MAX_VALUE;
            double bestScore = Double.MAX_VALUE;
            ColdStart bestCold = null;
            Backend sticky = null;
            long stickyStart = 0;
            long stickyFinish = Long.MAX_VALUE;
            double stickyScore = Double.MAX_VALUE;
            ColdStart stickyCold = null;
            Backend now0 = null;
            double nowScore = Double.MAX_VALUE;
            int n = candidates.size();
            // A full backend not yet forecast by this decision goes last (bit k of put-off): by then a free one may
            // have set a finish it cannot beat, and predicting each of its running jobs is skipped.
            long putOff = 0;
            for (int k = 0; k < 2 * n; k++) {
                boolean second = k >= n;
                if (second && putOff == 0) {
                    break;
                }
                int turnAt = second ? k - n : k;
                if (second && (turnAt >= Long.SIZE || (putOff & (1L << turnAt)) == 0)) {
                    continue;
                }
                int at = Math.floorMod(turn + turnAt, n);
                Backend b = candidates.get(at);
                SlotForecast forecast = row.forecasts[at];
                if (forecast == null) {
                    forecast = slots.get(b);
                }
                if (!second && forecast == null && turnAt < Long.SIZE && !b.hasFreeSlot()) {
                    putOff |= 1L << turnAt;
                    continue;
                }
                Switch sw = switches == null ? null : switches.get(b);
                if (row.warm[at] == UNKNOWN) {
                    row.warm[at] = !predictor.isWarm(b, r, now) ? COLD
                            : placement.restricted() && predictor.yields(b, r.modelKey(), placement) ? YIELDS : WARM;
                }
                if (row.warm[at] == YIELDS && (row.hasPlannedHome(placement) || placement.waits(r.modelKey()))) {
                    // Warm here, but the plan moves the model to its home (or has it wait for its next turn) and
                    // wants this memory for another: new requests go home, so the ones running here finish and the
                    // planned model can load. Without this, a fast backend keeps serving whatever it holds and the
                    // plan is never carried out.
                    continue;
                }
                if (row.speeds[at] == null) {
                    row.speeds[at] = predictor.speeds(b, r);
                }
                if (forecast == null) {
                    if (second && row.warm[at] == WARM && sw == null && !b.name().equals(affine)) {
                        long bound = predictor.busyFinishBound(b, row.speeds[at], r, output, now);
                        if (bound > 0 && bound >= bestScore) {
                            continue;
                        }
                    }
                    // One idle slot listed at first; the plan asks for more when it has reserved them all.
                    forecast = predictor.slotForecast(b, now, w, r, 1);
                    slots.put(b, forecast);
                }
                row.forecasts[at] = forecast;
                if (forecast.exhausted()) {
                    forecast.replaceWith(predictor.slotForecast(b, now, w, r, forecast.reservations() + lookahead + 1));
                }
                long[] free = forecast.times();
                boolean cold = row.warm[at] == COLD;
                long start = free[0];
                ColdStart coldStart = null;
                if (sw != null && sw.model().equals(r.modelKey())) {
                    // This decision already loads the model there: it is warm from then on.
                    cold = false;
                    start = Math.max(start, sw.readyAt());
                }
                if (cold && placement.restricted() && !placement.planned(b.name(), r.modelKey())
                        && (placement.replicas(r.modelKey()) > 0 || placement.waits(r.modelKey()))) {
                    // Where memory is short, loads follow the plan: a load elsewhere evicts what another model
                    // needs, and the plan (which sees all demand) moves models when that pays; per request, it
                    // never does for long (DES: swap-zipf at 40 % loads/100 16 → 2.5 with this rule). A model that
                    // waits for its turn waits in the queue: loading it per request evicts the model whose turn it
                    // is, whose next request evicts it back.
                    continue;
                }
                if (cold) {
                    long barrier = predictor.reloadBarrierNanos(b, r, now);
                    coldStart = predictor.coldStart(b, r.modelKey(), now, w, placement,
                            sw == null ? null : sw.model());
                    barrier = Math.max(barrier, coldStart.waitNanos());
                    if (barrier > start && forecast.countedOnly()) {
                        // The busy slots were only counted (Predictor.slotForecast); starting at a reload barrier
                        // needs to know which of them end before it. Cold starts are rare: predict them all.
                        forecast.replaceWith(predictor.slotForecast(b, now, w, r, Integer.MAX_VALUE));
                    }
                    start = Math.max(start, barrier);
                }
                long finish = start + Predictor.serviceNanos(row.speeds[at], r, forecast.streamsAt(start), cold,
                        output);
                double score = finish + (coldStart == null ? 0 : coldStart.penaltyNanos());
                if (start == 0 && b.hasFreeSlot() && score < nowScore) {
                    now0 = b;
                    nowScore = score;
                }
                if (score < bestScore) {
                    best = b;
                    bestStart = start;
                    bestFinish = finish;
                    bestScore = score;
                    bestCold = coldStart;
                }
                if (affine != null && affine.equals(b.name())) {
                    sticky = b;
                    stickyStart = start;
                    stickyFinish = finish;
                    stickyScore = score;
                    stickyCold = coldStart;
                }
            }
            if (best == null) {
                continue;
            }
            if (sticky != null && sticky != best && stickyScore <= bestScore + bestFinish * affinityMargin) {
                best = sticky;
                bestStart = stickyStart;
                bestFinish = stickyFinish;
                bestCold = stickyCold;
            }
            if (bestStart == 0 && best.hasFreeSlot()) {
                return new Selection(i, best);
            }
            if (now0 != null && nowScore - bestScore <= startNowTolerance(best, now0, r) * (bestFinish - bestStart)) {
                // Waiting for the better backend would gain little against the job's own length: start now. This
                // keeps short jobs from queueing behind a fast backend (the median) at a small cost in the mean.
                return new Selection(i, now0);
            }
            if (bestCold != null && (switches == null || !switches.containsKey(best))) {
                long load = bestFinish - bestStart - predictor.serviceNanosWith(r, best, 1, false, output);
                if (switches == null) {
                    switches = new IdentityHashMap<>();
                }
                switches.put(best, new Switch(r.modelKey(), bestStart + Math.max(0, load)));
            }
            slots.get(best).reserve(bestFinish);
        }
        return null;
    }

    /**
     * The share of a job that waiting for a better backend must save, when the two speeds compared were learned from
     * at least {@code samples} responses each: {@link #START_NOW_TOLERANCE} once they are well known, up to four
     * times that while one of them rests on nothing of its own. A difference between speeds learned from one
     * response and borrowed from it is noise: at a start-up burst of 5,000 streams, one sample (its backend's figure
     * shrunk toward the hint, the others' not) made the first backend look 26 % faster, and a thousand requests waited
     * for its slots while three backends had 340 free each.
     */
    static double startNowTolerance(long samples) {
        return START_NOW_TOLERANCE * (1 + UNSURE / (1.0 + Math.max(0, samples)));
    }

    /** {@link #startNowTolerance(long)} for {@code r} between {@code best} and {@code free}, by their own responses. */
    private double startNowTolerance(Backend best, Backend free, PendingRequest r) {
        return startNowTolerance(Math.min(predictor.speeds(best, r).samples(), predictor.speeds(free, r).samples()));
    }

    private static final byte UNKNOWN = 0;
    private static final byte WARM = 1;
    private static final byte COLD = 2;
    /** Warm, but yielding its memory to a model the plan wants there ({@link Predictor#yields}). */
    private static final byte YIELDS = 3;

    /**
     * What one decision has looked up about one candidate list for requests of one model and runner options, by
     * position in the list: each backend's slot forecast (the plan's own, shared by every row that has the
     * backend), the model's speeds there, and whether its instance is warm there. A window's requests of one model
     * mostly share one list ({@link QueueWindow#candidates}), so a decision asks the predictor once per backend and
     * model instead of once per request and backend (a lookahead of 16 on 16 backends made 256 of each).
     */
    private static final class Row {
        final List<Backend> candidates;
        final String model;
        final String runnerOptions;
        final SlotForecast[] forecasts;
        final Speeds[] speeds;
        final byte[] warm;
        /** Whether one of the candidates is planned to hold the model: null until asked. */
        private Boolean plannedHome;

        Row(List<Backend> candidates, String model, String runnerOptions) {
            this.candidates = candidates;
            this.model = model;
            this.runnerOptions = runnerOptions;
            int n = candidates.size();
            this.forecasts = new SlotForecast[n];
            this.speeds = new Speeds[n];
            this.warm = new byte[n];
        }

        /** Whether the plan holds this row's model on one of its candidates. */
        boolean hasPlannedHome(PlacementPlan placement) {
            if (plannedHome == null) {
                plannedHome = Boolean.FALSE;
                for (Backend b : candidates) {
                    if (placement.planned(b.name(), model)) {
                        plannedHome = Boolean.TRUE;
                        break;
                    }
                }
            }
            return plannedHome;
        }

        boolean serves(List<Backend> list, PendingRequest r) {
            return list == candidates && model.equals(r.modelKey()) && runnerOptions.equals(Predictor.runnerOptions(r));
        }
    }

    /** {@code r}'s row among {@code rows} (the same list, model and runner options), made and added when missing. */
    private static Row row(List<Row> rows, List<Backend> candidates, PendingRequest r) {
        for (Row row : rows) {
            if (row.serves(candidates, r)) {
                return row;
            }
        }
        Row fresh = new Row(candidates, r.modelKey(), Predictor.runnerOptions(r));
        rows.add(fresh);
        return fresh;
    }

    @Override
    public boolean usesPlacement() {
        return true;
    }

    @Override
    public String name() {
        return "eft";
    }
}

package io.ollamabalancer.estimate;

import static java.util.Collections.unmodifiableMap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Learned performance of every backend × model: prefill and decode speed, how decode slows as the backend's slots
 * fill, and cold-load time, all from the timing fields Ollama returns ({@link SpeedStats}).
 *
 * <p>A pair with few or no samples borrows: its prior is the model's speed on the fleet's typical backend times the
 * backend's own relative speed (learned on other models, else the configured factor), both from a fit of
 * {@code log speed = model part + backend part} over every pair seen ({@link #build}), so a model that happened to
 * run only on slow backends is not taken for a slow model; a model nobody has served yet borrows the typical served
 * model's speed, and only with nothing served at all do the configured hints stand. Its own samples then outweigh
 * the prior as they accumulate
 * ({@code log s = (w·own + prior) / (w + 1)} with {@code w = n^1.5}, so ten samples leave the prior a 3 % say).
 *
 * <p>In cluster mode the other replicas' figures for the pair ({@link #prior}) join as a third, bounded voice
 * ({@link Blend}): {@code log s = (w·own + ws·shared + prior) / (w + ws + 1)}. They count in the fleet-wide
 * averages too (blended with the pair's own samples by the same weights), so a replica started late knows every
 * backend's speed, and each backend's relative speed, before its first request. {@link #ownFigures} exports only
 * this replica's own samples, never the import, so no sample is counted twice.
 *
 * <p>Thread-safe, and cheap where it runs for every request. Learning ({@link #record}, once per finished request)
 * updates only its own pair, lock-free, and drops only that pair's cached prediction. The fleet-wide averages
 * (the priors of the other pairs) are rebuilt by whichever thread finds them out of date (for {@link #record}, on
 * the executor given to {@link #rebuildOn}, so an event loop never runs the fit), never by two at once and never
 * blocking a reader: at once when a pair's figures appear or move materially (by more than
 * {@value #MATERIAL_LOG_CHANGE} in log space, about 5 %) since they were last built, otherwise at most every
 * {@value #REBUILD_INTERVAL_MS} ms; {@link #prior} (the cluster thread) brings them up to date too, and
 * {@link #snapshot} (the status page) asks the same executor for a rebuild when they are behind. A prediction is computed against one consistent build (the pair's own contribution is taken out of the
 * averages as they were built), so a pair's prior is what the others said at that build. Lookups
 * ({@link #speeds}) are lock-free reads of immutable values, cached per pair until its figures or the build
 * change.
 */
public final class CostModel {
    /** A change of a pair's log figures (or β) beyond this rebuilds the fleet-wide averages at once. */
    static final double MATERIAL_LOG_CHANGE = 0.05;
    /** Smaller changes are folded into the averages at most this often. */
    static final long REBUILD_INTERVAL_MS = 100;
    private static final long REBUILD_INTERVAL_NANOS = REBUILD_INTERVAL_MS * 1_000_000L;

    private final CostHints hints;
    /** The GPU prior's speed factor against a CPU backend (decode and prefill). */
    public static final double GPU_PRIOR = 4.0;
    /** backend → prior speed factor from what its {@code /api/ps} shows ({@link #hardware}). */
    private final Map<String, Double> observedFactors = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    /** backend → model → what is known of the pair; entries are created by learning and by lookups. */
    private final Map<String, Map<String, Pair>> pairs = new ConcurrentHashMap<>();
    /** model → its {@link #fleetSpeeds}, until the next build. */
    private final Map<String, Cached> fleetCache = new ConcurrentHashMap<>();
    /** The other replicas' figures, backend → model; replaced whole by {@link #prior}. */
    private volatile Map<String, Map<String, SpeedFigures>> shared = Map.of();
    private volatile Fleetwide fleetwide = new Fleetwide(Map.of(), Map.of(), Map.of(), Map.of(), Map.of(),
            Sums.NONE, Slowdowns.NONE);
    private final AtomicBoolean rebuilding = new AtomicBoolean();
    /** A rebuild was handed to {@link #rebuilder} and has not started. */
    private final AtomicBoolean rebuildQueued = new AtomicBoolean();
    /** Where {@link #record}'s rebuilds run; null: inline. */
    private volatile Executor rebuilder;
    /** A rebuild was asked for and has not started since. */
    private volatile boolean rebuildWanted;
    /** Some pair moved a little since the last rebuild began. */
    private volatile boolean stale;
    private volatile long lastRebuildNanos;

    public CostModel(CostHints hints) {
        this(hints, System::nanoTime);
    }

    /** @param nanoTime the clock that paces rebuilds of the fleet-wide averages (the scheduler's) */
    public CostModel(CostHints hints, LongSupplier nanoTime) {
        this.hints = hints;
        this.nanoTime = nanoTime;
        this.lastRebuildNanos = nanoTime.getAsLong();
    }

    /**
     * What is known of a backend's speed before it has answered anything: {@code gpu} when its {@code /api/ps}
     * shows a model in GPU memory ({@code size_vram > 0}), not when models sit there in system memory only. A GPU
     * backend is then expected {@link #GPU_PRIOR}× as fast as a CPU one until its own figures say otherwise, so a
     * new fleet's first requests go to its GPUs. A factor configured in the hints wins.
     */
    public void hardware(String backend, boolean gpu) {
        Double before = observedFactors.put(backend, gpu ? GPU_PRIOR : 1.0);
        if (before == null || before != (gpu ? GPU_PRIOR : 1.0)) {
            rebuild(); // cached predictions hold the old prior
        }
    }

    /**
     * The mean log prior factor of the backends with figures of their own: a model's fleet mean is its speed on the
     * typical one of those ({@link #build}), so a prior factor is taken relative to them, and a CPU backend is not
     * taken for as fast as a fleet mean that GPUs alone have made.
     */
    private double learnedFactor(Fleetwide fw) {
        double sum = 0;
        int n = 0;
        for (String backend : fw.figures.keySet()) {
            sum += Math.log(priorFactor(backend));
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }

    private double priorFactor(String backend) {
        if (hints.hasFactor(backend)) {
            return hints.factor(backend);
        }
        return observedFactors.getOrDefault(backend, 1.0);
    }

    public CostHints hints() {
        return hints;
    }

    /**
     * Learns from one response of {@code model} on {@code backend}.
     *
     * @param share how much of its single-stream decode speed the streams running meanwhile left it; null when
     *              unknown: the decode is not learned from
     */
    public void record(String backend, String model, TimingSample sample, DecodeShare share) {
        if (sample == null) {
            return;
        }
        Pair pair = pair(backend, model);
        if (!pair.recorded) {
            pair.recorded = true;
        }
        if (!pair.stats.record(sample, share, hints.coldLoadThresholdNs())) {
            return;
        }
        Fleetwide fw = fleetwide;
        double[] built = fw.figures.getOrDefault(backend, Map.of()).get(model);
        double[] now = contribution(pair.stats.view(), fw.shared.getOrDefault(backend, Map.of()).get(model),
                fw.slowdowns.fallback(backend, model, hints.slowdown()));
        if (materiallyDifferent(built, now)) {
            rebuildSoon();
        } else if (!Arrays.equals(built == null ? NOTHING : built, now)) {
            stale = true;
            if (nanoTime.getAsLong() - lastRebuildNanos >= REBUILD_INTERVAL_NANOS) {
                rebuildSoon();
            }
        }
    }

    /**
     * Where rebuilds asked for by {@link #record} run from now on. A rebuild fits every backend × model pair
     * (bench/jmh.sh CostModel: about 15 µs on 16 backends × 3 models, 600 µs on 64 × 30), up to ten times a second
     * under steady traffic, and {@code record} runs on the event loop that completed the request: the scheduler
     * hands it its timer thread. Unset (a replay, a test), rebuilds run inline, in the order the replay needs.
     */
    public void rebuildOn(Executor executor) {
        rebuilder = executor;
    }

    /** A rebuild on the {@link #rebuildOn rebuild executor}: one queued at a time, the rebuild itself loops. */
    private void rebuildSoon() {
        Executor e = rebuilder;
        if (e == null) {
            rebuild();
            return;
        }
        rebuildWanted = true;
        if (rebuildQueued.compareAndSet(false, true)) {
            try {
                e.execute(() -> {
                    rebuildQueued.set(false);
                    rebuild();
                });
            } catch (RejectedExecutionException shutDown) {
                // The scheduler is stopping: the figures are no longer read.
                rebuildQueued.set(false);
            }
        }
    }

    /** Predicted speeds of {@code model} on {@code backend}; never null (falls back to the fleet, then hints). */
    public Speeds speeds(String backend, String model) {
        Pair pair = pair(backend, model);
        Fleetwide fw = fleetwide;
        SpeedStats.View own = pair.stats.view();
        Cached c = pair.cached;
        if (c == null || c.basis != fw || c.own != own) {
            c = new Cached(fw, own, compute(backend, model, pair.recorded ? own : null, fw));
            pair.cached = c;
        }
        return c.speeds;
    }

    /** The fleet's typical speeds for {@code model}: what an unknown backend would be assumed to run at. */
    public Speeds fleetSpeeds(String model) {
        Fleetwide fw = fleetwide;
        Cached c = fleetCache.get(model);
        if (c == null || c.basis != fw) {
            c = new Cached(fw, null, compute(null, model, null, fw));
            fleetCache.put(model, c);
        }
        return c.speeds;
    }

    /**
     * Every backend × model pair learned here or by other replicas, sorted by backend then model; {@code samples}
     * counts only this replica's own. With a {@link #rebuildOn rebuild executor} the fleet-wide figures are those of
     * the last rebuild (never a fit on the caller's thread); without one they are brought up to date first.
     */
    public List<SpeedSnapshot> snapshot() {
        if (stale) {
            // The status page reads this on an event loop: there the figures of the last rebuild (at most a rebuild
            // interval old) are shown and the rebuild is asked of the rebuild executor; unset, it runs here.
            rebuildSoon();
        }
        Map<String, Map<String, SpeedFigures>> others = fleetwide.shared;
        List<SpeedSnapshot> out = new ArrayList<>();
        forEachPair(others, (backend, model, v, sh) -> {
            Speeds sp = speeds(backend, model);
            out.add(new SpeedSnapshot(backend, model, sp.prefillTps(), sp.decodeTps(), sp.slowdown(),
                    sp.loadNanos() / 1e6, v == null ? 0 : v.samples, sp.source()));
        });
        out.sort(Comparator.comparing(SpeedSnapshot::backend).thenComparing(SpeedSnapshot::model));
        return out;
    }

    /**
     * This replica's own figures, backend → model, from its own samples only (never the imported prior): what it
     * shares with the other replicas. Any thread; reads published views.
     */
    Map<String, Map<String, SpeedFigures>> ownFigures() {
        Map<String, Map<String, SpeedFigures>> out = new HashMap<>();
        Fleetwide fw = fleetwide;
        pairs.forEach((backend, models) -> models.forEach((model, pair) -> {
            if (!pair.recorded) {
                return;
            }
            SpeedStats.View v = pair.stats.view();
            long nd = v.decodeSamples();
            SpeedFigures f = new SpeedFigures(
                    nd > 0 ? Math.exp(v.logDecode1(slowdown(v, fw.shared.getOrDefault(backend, Map.of()).get(model),
                            fw.slowdowns.fallback(backend, model, hints.slowdown())))) : Double.NaN, nd,
                    v.slowdown(),
                    v.prefill.isEmpty() ? Double.NaN : Math.exp(v.prefill.mean()), v.prefill.count(),
                    v.load.isEmpty() ? Double.NaN : Math.exp(v.load.mean()), v.load.count());
            if (!f.isEmpty()) {
                out.computeIfAbsent(backend, b -> new HashMap<>()).put(model, f);
            }
        }));
        return out;
    }

    /**
     * Installs the other replicas' merged figures, backend → model, replacing the previous import. The caller has
     * validated them (finite, positive, within bounds): this class trusts its input.
     */
    void prior(Map<String, Map<String, SpeedFigures>> others) {
        Map<String, Map<String, SpeedFigures>> copy = new HashMap<>();
        others.forEach((backend, models) -> {
            Map<String, SpeedFigures> kept = new HashMap<>();
            models.forEach((model, f) -> {
                if (f != null && !f.isEmpty()) {
                    kept.put(model, f);
                }
            });
            if (!kept.isEmpty()) {
                copy.put(backend, unmodifiableMap(new TreeMap<>(kept)));
            }
        });
        shared = unmodifiableMap(new TreeMap<>(copy));
        rebuild();
    }

    /**
     * The prediction for a pair ({@code backend == null}: the fleet's typical backend) from its own figures
     * {@code v} ({@code null}: none) against the build {@code fw}.
     */
    private Speeds compute(String backend, String model, SpeedStats.View v, Fleetwide fw) {
        SpeedFigures sh = backend == null ? null : fw.shared.getOrDefault(backend, Map.of()).get(model);
        Sums ms = fw.models.getOrDefault(model, Sums.NONE);
        Sums bs = backend == null ? Sums.NONE : fw.backends.getOrDefault(backend, Sums.NONE);
        double hintFactor = backend == null ? 0 : Math.log(priorFactor(backend)) - learnedFactor(fw);

        // What this pair contributed to the fleet-wide sums when they were built, so its prior is what the
        // others say.
        double[] contribution = backend == null ? NOTHING
                : fw.figures.getOrDefault(backend, Map.of()).getOrDefault(model, NOTHING);
        double ownDecode = contribution[0];
        double ownPrefill = contribution[1];
        double ownLoad = contribution[2];

        double beta = slowdown(v, sh, backend == null ? hints.slowdown()
                : fw.slowdowns.fallback(backend, model, hints.slowdown()));
        double decodeFactor = orElse(without(bs, 0, ownDecode - ms.mean(0)), hintFactor);
        double prefillFactor = orElse(without(bs, 1, ownPrefill - ms.mean(1)), hintFactor);
        // The model's sums hold each pair less its backend's part (build); this pair's own comes out the same way.
        double[] part = backend == null ? NO_PART : fw.parts.getOrDefault(backend, NO_PART);
        double fleetDecode = without(ms, 0, ownDecode - part[0]);
        double fleetPrefill = without(ms, 1, ownPrefill - part[1]);
        double fleetLoad = without(ms, 2, ownLoad);

        // A model nobody has served yet runs, until it has, like the typical model served here: the fleet's own
        // figures say more about its hardware than the hints do.
        // (The other models': a model's own figures are no evidence for its prior.)
        double priorDecode = orElse(fleetDecode, orElse(without(fw.typical, 0, ms.mean(0)),
                Math.log(hints.decodeTps()))) + decodeFactor;
        double priorPrefill = orElse(fleetPrefill, orElse(without(fw.typical, 1, ms.mean(1)),
                Math.log(hints.prefillTps()))) + prefillFactor;
        double priorLoad = orElse(fleetLoad, Math.log(hints.loadNanos()));
        Speeds.Source source = Double.isNaN(fleetDecode) ? Speeds.Source.HINT : Speeds.Source.FLEET;

        long samples = v == null ? 0 : v.samples;
        long nd = v == null ? 0 : v.decodeSamples();
        if (nd > 0) {
            source = Speeds.Source.LEARNED;
        } else if (sh != null && sh.decodeWeight() > 0) {
            source = Speeds.Source.SHARED;
        }
        double decode = Blend.withPrior(nd > 0 ? v.logDecode1(beta) : Double.NaN, nd,
                sh == null ? Double.NaN : sh.logDecode(), sh == null ? 0 : sh.decodeWeight(), priorDecode);
        double prefill = Blend.withPrior(v == null || v.prefill.isEmpty() ? Double.NaN : v.prefill.mean(),
                v == null ? 0 : v.prefill.count(), sh == null ? Double.NaN : sh.logPrefill(),
                sh == null ? 0 : sh.prefillWeight(), priorPrefill);
        double load = Blend.withPrior(v == null || v.load.isEmpty() ? Double.NaN : v.load.mean(),
                v == null ? 0 : v.load.count(), sh == null ? Double.NaN : sh.logLoad(),
                sh == null ? 0 : sh.loadWeight(), priorLoad);
        return new Speeds(Math.exp(prefill), Math.exp(decode), beta, (long) Math.exp(load), samples, source);
    }

    /** The part of a backend that has none in the fit. */
    private static final double[] NO_PART = {0, 0};

    /** A pair that contributes nothing (decode, prefill, load, β). */
    private static final double[] NOTHING = {Double.NaN, Double.NaN, Double.NaN, Double.NaN};

    /** A pair's β: its own fit, else the other replicas' for it, else {@code fallback}. */
    private static double slowdown(SpeedStats.View v, SpeedFigures sh, double fallback) {
        if (v != null && !Double.isNaN(v.slowdown())) {
            return v.slowdown();
        }
        return sh != null && !Double.isNaN(sh.slowdown()) ? sh.slowdown() : fallback;
    }

    /**
     * What a pair adds to the fleet-wide sums: its own and the shared log figures combined by weight (decode,
     * prefill, load), and its β (own fit, else shared); NaN where it knows nothing. Its own single-stream decode
     * rate is read at the β its predictions use ({@link #slowdown}, the build's {@link Slowdowns} last): the rate
     * at the concurrencies it ran at is what its samples say whatever β, so a different β here would make backends
     * whose β was not told apart look faster or slower than the others.
     */
    private double[] contribution(SpeedStats.View v, SpeedFigures sh, double fallback) {
        double decode = v == null || v.decodeSamples() == 0 ? Double.NaN
                : v.logDecode1(slowdown(v, sh, fallback));
        double prefill = v == null || v.prefill.isEmpty() ? Double.NaN : v.prefill.mean();
        double load = v == null || v.load.isEmpty() ? Double.NaN : v.load.mean();
        double beta = v == null ? Double.NaN : v.slowdown();
        if (sh == null) {
            return new double[] {decode, prefill, load, beta};
        }
        return new double[] {
            Blend.combine(decode, v == null ? 0 : v.decodeSamples(), sh.logDecode(), sh.decodeWeight()),
            Blend.combine(prefill, v == null ? 0 : v.prefill.count(), sh.logPrefill(), sh.prefillWeight()),
            Blend.combine(load, v == null ? 0 : v.load.count(), sh.logLoad(), sh.loadWeight()),
            Double.isNaN(beta) ? sh.slowdown() : beta};
    }

    /** Visits every pair known here or to the other replicas once, with its own view and shared figures. */
    private void forEachPair(Map<String, Map<String, SpeedFigures>> others, PairVisitor visitor) {
        pairs.forEach((backend, models) -> models.forEach((model, pair) -> {
            if (pair.recorded) {
                visitor.visit(backend, model, pair.stats.view(), others.getOrDefault(backend, Map.of()).get(model));
            }
        }));
        others.forEach((backend, models) -> {
            Map<String, Pair> own = pairs.getOrDefault(backend, Map.of());
            models.forEach((model, sh) -> {
                Pair pair = own.get(model);
                if (pair == null || !pair.recorded) {
                    visitor.visit(backend, model, null, sh);
                }
            });
        });
    }

    @FunctionalInterface
    private interface PairVisitor {
        void visit(String backend, String model, SpeedStats.View own, SpeedFigures shared);
    }

    /** The mean of figure {@code i} of {@code s} leaving out {@code contribution} (NaN: it did not contribute). */
    private static double without(Sums s, int i, double contribution) {
        boolean in = !Double.isNaN(contribution);
        double n = s.n[i] - (in ? 1 : 0);
        return n <= 0 ? Double.NaN : (s.sum[i] - (in ? contribution : 0)) / n;
    }

    private static double orElse(double v, double fallback) {
        return Double.isNaN(v) ? fallback : v;
    }

    /** Whether a pair's figures moved enough since {@code built} (null: not in the build) to rebuild at once. */
    private static boolean materiallyDifferent(double[] built, double[] now) {
        double[] b = built == null ? NOTHING : built;
        for (int i = 0; i < now.length; i++) {
            if (Double.isNaN(b[i]) != Double.isNaN(now[i]) || Math.abs(b[i] - now[i]) > MATERIAL_LOG_CHANGE) {
                return true;
            }
        }
        return false;
    }

    /**
     * Brings the fleet-wide averages up to date. One thread rebuilds at a time; a thread that finds a rebuild under
     * way leaves its request behind, and the rebuilding thread goes round again, so no change is left out and
     * nobody waits.
     */
    private void rebuild() {
        rebuildWanted = true;
        while (rebuildWanted && rebuilding.compareAndSet(false, true)) {
            try {
                // Cleared before the figures are read: whatever changes after this is seen now or rebuilt later.
                rebuildWanted = false;
                stale = false;
                fleetwide = build();
                lastRebuildNanos = nanoTime.getAsLong();
            } finally {
                rebuilding.set(false);
            }
        }
    }

    /**
     * Per model, sums of every pair's log figures (decode, prefill, load); per backend, sums of its deviations from
     * each model's fleet mean (decode, prefill); the β a pair that cannot tell its own is predicted with
     * ({@link Slowdowns}); over the pairs known here or shared ({@link #contribution}), which the build keeps. Called
     * by one thread at a time.
     *
     * <p>Decode and prefill are fitted as {@code log speed = model + backend} over the pairs seen
     * ({@link #fitAdditive}), and a model's sums hold each pair's figure <em>less its backend's part</em>: a model
     * that has run only on slow backends is not taken for a slow model. Its fleet mean is then its speed on the
     * fleet's typical backend whichever backends happened to run it, so the work it brings can be compared with
     * other models' (placement) and its speed on a backend that never ran it is that backend's part added to it.
     */
    private Fleetwide build() {
        Map<String, Map<String, SpeedFigures>> others = shared;
        Slowdowns slowdowns = slowdowns(others);
        Map<String, Map<String, double[]>> figures = new HashMap<>();
        forEachPair(others, (backend, model, v, sh) -> figures.computeIfAbsent(backend, b -> new HashMap<>())
                .put(model, contribution(v, sh, slowdowns.fallback(backend, model, hints.slowdown()))));
        Map<String, double[]> parts = new HashMap<>();
        figures.keySet().forEach(b -> parts.put(b, new double[2]));
        fitAdditive(figures, parts, 0);
        fitAdditive(figures, parts, 1);
        Map<String, Sums> models = new HashMap<>();
        figures.forEach((backend, perModel) -> perModel.forEach((model, f) -> {
            Sums acc = models.computeIfAbsent(model, m -> new Sums());
            double[] part = parts.get(backend);
            acc.add(0, f[0] - part[0]);
            acc.add(1, f[1] - part[1]);
            acc.add(2, f[2]);
        }));
        // The typical model: sums of the models' means, so that a model's prior can leave its own out.
        Sums typical = new Sums();
        for (Sums m : models.values()) {
            typical.add(0, m.mean(0));
            typical.add(1, m.mean(1));
        }
        Map<String, Sums> backends = new HashMap<>();
        Map<String, Map<String, double[]>> kept = new HashMap<>();
        figures.forEach((backend, perModel) -> {
            Sums acc = new Sums();
            perModel.forEach((model, f) -> {
                Sums avg = models.get(model);
                acc.add(0, f[0] - avg.mean(0));
                acc.add(1, f[1] - avg.mean(1));
            });
            backends.put(backend, acc);
            kept.put(backend, unmodifiableMap(new TreeMap<>(perModel)));
        });
        return new Fleetwide(unmodifiableMap(new TreeMap<>(models)), unmodifiableMap(new TreeMap<>(backends)),
                unmodifiableMap(new TreeMap<>(kept)), others, unmodifiableMap(new TreeMap<>(parts)),
                typical, slowdowns);
    }

    /** The mean told-apart β of each backend (over its models) and of each model (over its backends). */
    private Slowdowns slowdowns(Map<String, Map<String, SpeedFigures>> others) {
        Map<String, double[]> byBackend = new HashMap<>();
        Map<String, double[]> byModel = new HashMap<>();
        forEachPair(others, (backend, model, v, sh) -> {
            double beta = slowdown(v, sh, Double.NaN);
            if (!Double.isNaN(beta)) {
                add(byBackend.computeIfAbsent(backend, b -> new double[2]), beta);
                add(byModel.computeIfAbsent(model, m -> new double[2]), beta);
            }
        });
        return new Slowdowns(means(byBackend), means(byModel));
    }

    private static void add(double[] sumAndCount, double v) {
        sumAndCount[0] += v;
        sumAndCount[1]++;
    }

    private static Map<String, Double> means(Map<String, double[]> sums) {
        Map<String, Double> out = new TreeMap<>();
        sums.forEach((k, s) -> out.put(k, s[0] / s[1]));
        return unmodifiableMap(out);
    }

    /**
     * The β a pair whose own fit cannot tell it (all its responses ran at about one concurrency) is predicted with:
     * its backend's β on other models, else its model's on other backends, else the hint. With one β for the
     * unknown pairs and another for those fitted, a prediction away from the concurrency a pair ran at is off by
     * their ratio: seen at 5,000 streams on four equal simulators, two fitted β 0 and two fell back to the hint's
     * 0.5, which put their single-stream rates 40-60x above the others'; in each pass's opening seconds (few
     * streams running) eft then held requests back for those two while the others had a thousand free slots
     * each (queue-wait p90 6.2 s).
     */
    private record Slowdowns(Map<String, Double> byBackend, Map<String, Double> byModel) {
        static final Slowdowns NONE = new Slowdowns(Map.of(), Map.of());

        double fallback(String backend, String model, double hint) {
            Double b = byBackend.get(backend);
            if (b != null) {
                return b;
            }
            Double m = byModel.get(model);
            return m != null ? m : hint;
        }
    }

    /** Rounds of the alternating fit: each halves the error or better on the fleets met; a build is rare and small. */
    private static final int FIT_ROUNDS = 12;

    /**
     * Fits figure {@code i} (0 decode, 1 prefill) of every pair as a model's part plus a backend's part
     * ({@link AdditiveFit}, each pair seen counted once), the backends' parts centred on zero: writes each backend's
     * part into {@code parts[backend][i]}.
     */
    private static void fitAdditive(Map<String, Map<String, double[]>> figures, Map<String, double[]> parts, int i) {
        List<String> backends = new ArrayList<>(figures.keySet());
        Map<String, Integer> column = new LinkedHashMap<>();
        figures.values().forEach(perModel -> perModel.keySet().forEach(m -> column.putIfAbsent(m, column.size())));
        double[][] value = new double[backends.size()][column.size()];
        double[][] weight = new double[backends.size()][column.size()];
        for (int b = 0; b < backends.size(); b++) {
            for (Map.Entry<String, double[]> e : figures.get(backends.get(b)).entrySet()) {
                int m = column.get(e.getKey());
                value[b][m] = e.getValue()[i];
                weight[b][m] = Double.isNaN(value[b][m]) ? 0 : 1;
            }
        }
        double[] fitted = AdditiveFit.fit(value, weight, FIT_ROUNDS, true).rows();
        for (int b = 0; b < backends.size(); b++) {
            parts.get(backends.get(b))[i] = fitted[b];
        }
    }

    private Pair pair(String backend, String model) {
        Map<String, Pair> perBackend = pairs.get(backend);
        if (perBackend == null) {
            perBackend = pairs.computeIfAbsent(backend, b -> new ConcurrentHashMap<>());
        }
        Pair pair = perBackend.get(model);
        return pair != null ? pair : perBackend.computeIfAbsent(model, m -> new Pair());
    }

    /** Sums and counts of three figures; NaN values are skipped. Mutable only while a rebuild fills it. */
    private static final class Sums {
        static final Sums NONE = new Sums();
        final double[] sum = new double[3];
        final double[] n = new double[3];

        void add(int i, double v) {
            if (!Double.isNaN(v)) {
                sum[i] += v;
                n[i]++;
            }
        }

        double mean(int i) {
            return n[i] == 0 ? Double.NaN : sum[i] / n[i];
        }
    }

    /**
     * One build of the fleet-wide sums, with each pair's contribution to them (backend → model →
     * {@link #contribution}) and the shared figures they were built with: one basis for cached predictions.
     */
    private record Fleetwide(Map<String, Sums> models, Map<String, Sums> backends,
                             Map<String, Map<String, double[]>> figures,
                             Map<String, Map<String, SpeedFigures>> shared, Map<String, double[]> parts,
                             Sums typical, Slowdowns slowdowns) {
    }

    /** One backend × model pair: its own learning and its last prediction. */
    private static final class Pair {
        final SpeedStats stats = new SpeedStats();
        /** Whether a response of the pair was ever recorded (a lookup alone creates the pair too). */
        volatile boolean recorded;
        volatile Cached cached;
    }

    /** A prediction and what it was computed from. */
    private record Cached(Fleetwide basis, SpeedStats.View own, Speeds speeds) {
    }
}

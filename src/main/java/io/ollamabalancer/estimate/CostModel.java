package io.ollamabalancer.estimate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Learned performance of every backend × model: prefill and decode speed, how decode slows as the backend's slots
 * fill, and cold-load time, all from the timing fields Ollama returns ({@link SpeedStats}).
 *
 * <p>A pair with few or no samples borrows: its prior is the other backends' geometric-mean speed for the model times the
 * backend's own relative speed (learned on other models, else the configured factor), or the configured hints
 * when nobody has served the model yet; its own samples then outweigh the prior as they accumulate
 * ({@code log s = (w·own + prior) / (w + 1)} with {@code w = n^1.5}, so ten samples leave the prior a 3 % say).
 *
 * <p>Thread-safe. Learning ({@link #record}) happens once per finished request and rebuilds the fleet-wide
 * averages under the model's lock; lookups ({@link #speeds}) are lock-free reads of immutable values, cached per
 * pair until the next rebuild.
 */
public final class CostModel {
    private static final double PRIOR_WEIGHT = 1.0;
    private static final double MAX_OWN_WEIGHT = 50;

    private final CostHints hints;
    private final Map<String, Map<String, SpeedStats>> stats = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Cached>> cache = new ConcurrentHashMap<>();
    private volatile Fleetwide fleetwide = new Fleetwide(Map.of(), Map.of());

    public CostModel(CostHints hints) {
        this.hints = hints;
    }

    public CostHints hints() {
        return hints;
    }

    /**
     * Learns from one response of {@code model} on {@code backend}.
     *
     * @param concurrency mean number of streams that ran on the backend meanwhile, this one included
     */
    public void record(String backend, String model, TimingSample sample, double concurrency) {
        if (sample == null) {
            return;
        }
        SpeedStats s = stats.computeIfAbsent(backend, b -> new ConcurrentHashMap<>())
                .computeIfAbsent(model, m -> new SpeedStats());
        if (s.record(sample, concurrency, hints.coldLoadThresholdNs())) {
            synchronized (this) {
                fleetwide = rebuild();
            }
        }
    }

    /** Predicted speeds of {@code model} on {@code backend}; never null (falls back to the fleet, then hints). */
    public Speeds speeds(String backend, String model) {
        Fleetwide fw = fleetwide;
        Map<String, Cached> perBackend = cache.computeIfAbsent(backend, b -> new ConcurrentHashMap<>());
        Cached c = perBackend.get(model);
        if (c == null || c.basis != fw) {
            c = new Cached(fw, compute(backend, model, fw));
            perBackend.put(model, c);
        }
        return c.speeds;
    }

    /** The fleet's typical speeds for {@code model}: what an unknown backend would be assumed to run at. */
    public Speeds fleetSpeeds(String model) {
        return compute(null, model, fleetwide);
    }

    /** Every learned backend × model pair, sorted by backend then model. */
    public List<SpeedSnapshot> snapshot() {
        List<SpeedSnapshot> out = new ArrayList<>();
        stats.forEach((backend, models) -> models.forEach((model, s) -> {
            Speeds sp = speeds(backend, model);
            out.add(new SpeedSnapshot(backend, model, sp.prefillTps(), sp.decodeTps(), sp.slowdown(),
                    sp.loadNanos() / 1e6, s.view().samples, sp.source()));
        }));
        out.sort(Comparator.comparing(SpeedSnapshot::backend).thenComparing(SpeedSnapshot::model));
        return out;
    }

    private Speeds compute(String backend, String model, Fleetwide fw) {
        SpeedStats own = backend == null ? null : stats.getOrDefault(backend, Map.of()).get(model);
        SpeedStats.View v = own == null ? null : own.view();
        Sums ms = fw.models.getOrDefault(model, Sums.NONE);
        Sums bs = backend == null ? Sums.NONE : fw.backends.getOrDefault(backend, Sums.NONE);
        double hintFactor = Math.log(backend == null ? 1.0 : hints.factor(backend));

        // What this pair contributed to the fleet-wide sums, so its prior is what the others say.
        double ownDecode = v == null ? Double.NaN : v.logDecode1(betaOf(v));
        double ownPrefill = v == null || v.prefill.isEmpty() ? Double.NaN : v.prefill.mean();
        double ownLoad = v == null || v.load.isEmpty() ? Double.NaN : v.load.mean();

        double beta = v != null && !Double.isNaN(v.slowdown) ? v.slowdown
                : bs.n[2] > 0 ? bs.sum[2] / bs.n[2] : hints.slowdown();
        double decodeFactor = orElse(without(bs, 0, ownDecode - ms.mean(0)), hintFactor);
        double prefillFactor = orElse(without(bs, 1, ownPrefill - ms.mean(1)), hintFactor);
        double fleetDecode = without(ms, 0, ownDecode);
        double fleetPrefill = without(ms, 1, ownPrefill);
        double fleetLoad = without(ms, 2, ownLoad);

        double priorDecode = orElse(fleetDecode, Math.log(hints.decodeTps())) + decodeFactor;
        double priorPrefill = orElse(fleetPrefill, Math.log(hints.prefillTps())) + prefillFactor;
        double priorLoad = orElse(fleetLoad, Math.log(hints.loadNanos()));
        Speeds.Source source = Double.isNaN(fleetDecode) ? Speeds.Source.HINT : Speeds.Source.FLEET;

        double decode = priorDecode;
        double prefill = priorPrefill;
        double load = priorLoad;
        long samples = 0;
        if (v != null) {
            samples = v.samples;
            long n = v.decodeSamples();
            if (n > 0) {
                decode = shrink(v.logDecode1(beta), n, priorDecode);
                source = Speeds.Source.LEARNED;
            }
            prefill = v.prefill.isEmpty() ? prefill : shrink(v.prefill.mean(), v.prefill.count(), priorPrefill);
            load = v.load.isEmpty() ? load : shrink(v.load.mean(), v.load.count(), priorLoad);
        }
        return new Speeds(Math.exp(prefill), Math.exp(decode), beta, (long) Math.exp(load), samples, source);
    }

    private double betaOf(SpeedStats.View v) {
        return Double.isNaN(v.slowdown) ? hints.slowdown() : v.slowdown;
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

    private static double shrink(double own, long n, double prior) {
        double w = Math.min(MAX_OWN_WEIGHT, n * Math.sqrt(n));
        return (w * own + PRIOR_WEIGHT * prior) / (w + PRIOR_WEIGHT);
    }

    /**
     * Per model, sums of every pair's log figures (decode, prefill, load); per backend, sums of its deviations from
     * each model's fleet mean (decode, prefill) and of its fitted β.
     */
    private Fleetwide rebuild() {
        Map<String, Sums> models = new HashMap<>();
        stats.forEach((backend, perModel) -> perModel.forEach((model, s) -> {
            SpeedStats.View v = s.view();
            Sums acc = models.computeIfAbsent(model, m -> new Sums());
            acc.add(0, v.logDecode1(betaOf(v)));
            acc.add(1, v.prefill.isEmpty() ? Double.NaN : v.prefill.mean());
            acc.add(2, v.load.isEmpty() ? Double.NaN : v.load.mean());
        }));
        Map<String, Sums> backends = new HashMap<>();
        stats.forEach((backend, perModel) -> {
            Sums acc = new Sums();
            perModel.forEach((model, s) -> {
                SpeedStats.View v = s.view();
                Sums avg = models.get(model);
                acc.add(0, v.logDecode1(betaOf(v)) - avg.mean(0));
                acc.add(1, (v.prefill.isEmpty() ? Double.NaN : v.prefill.mean()) - avg.mean(1));
                acc.add(2, v.slowdown);
            });
            backends.put(backend, acc);
        });
        return new Fleetwide(Map.copyOf(models), Map.copyOf(backends));
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

    private record Fleetwide(Map<String, Sums> models, Map<String, Sums> backends) {
    }

    private record Cached(Fleetwide basis, Speeds speeds) {
    }
}

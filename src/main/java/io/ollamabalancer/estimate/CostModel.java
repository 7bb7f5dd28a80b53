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
 * <p>A pair with few or no samples borrows: its prior is the fleet's geometric-mean speed for the model times the
 * backend's own relative speed (learned on other models, else the configured factor), or the configured hints
 * when nobody has served the model yet; its own samples then outweigh the prior as they accumulate
 * ({@code log s = (n·own + N0·prior) / (n + N0)}).
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
        ModelAverage avg = fw.models.get(model);
        BackendFactor bf = backend == null ? null : fw.backends.get(backend);
        double hintFactor = Math.log(backend == null ? 1.0 : hints.factor(backend));

        double beta = v != null && !Double.isNaN(v.slowdown) ? v.slowdown
                : bf != null && !Double.isNaN(bf.slowdown) ? bf.slowdown : hints.slowdown();
        double decodeFactor = bf != null && !Double.isNaN(bf.logDecode) ? bf.logDecode : hintFactor;
        double prefillFactor = bf != null && !Double.isNaN(bf.logPrefill) ? bf.logPrefill : hintFactor;

        boolean fleetDecode = avg != null && !Double.isNaN(avg.logDecode);
        double priorDecode = (fleetDecode ? avg.logDecode : Math.log(hints.decodeTps())) + decodeFactor;
        double priorPrefill = (avg != null && !Double.isNaN(avg.logPrefill) ? avg.logPrefill
                : Math.log(hints.prefillTps())) + prefillFactor;
        double priorLoad = avg != null && !Double.isNaN(avg.logLoad) ? avg.logLoad : Math.log(hints.loadNanos());

        double decode = priorDecode;
        double prefill = priorPrefill;
        double load = priorLoad;
        long samples = 0;
        Speeds.Source source = fleetDecode ? Speeds.Source.FLEET : Speeds.Source.HINT;
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

    private static double shrink(double own, long n, double prior) {
        double w = Math.min(MAX_OWN_WEIGHT, n);
        return (w * own + PRIOR_WEIGHT * prior) / (w + PRIOR_WEIGHT);
    }

    /** Fleet averages per model and relative speed per backend, from every pair's own figures. */
    private Fleetwide rebuild() {
        Map<String, double[]> sums = new HashMap<>();   // model → {prefillSum, prefillN, decodeSum, decodeN, loadSum, loadN}
        double defaultBeta = hints.slowdown();
        stats.forEach((backend, models) -> models.forEach((model, s) -> {
            SpeedStats.View v = s.view();
            double[] acc = sums.computeIfAbsent(model, m -> new double[6]);
            if (!v.prefill.isEmpty()) {
                acc[0] += v.prefill.mean();
                acc[1]++;
            }
            double d = v.logDecode1(Double.isNaN(v.slowdown) ? defaultBeta : v.slowdown);
            if (!Double.isNaN(d)) {
                acc[2] += d;
                acc[3]++;
            }
            if (!v.load.isEmpty()) {
                acc[4] += v.load.mean();
                acc[5]++;
            }
        }));
        Map<String, ModelAverage> models = new HashMap<>();
        sums.forEach((m, a) -> models.put(m, new ModelAverage(
                a[1] > 0 ? a[0] / a[1] : Double.NaN, a[3] > 0 ? a[2] / a[3] : Double.NaN,
                a[5] > 0 ? a[4] / a[5] : Double.NaN)));

        Map<String, BackendFactor> backends = new HashMap<>();
        stats.forEach((backend, perModel) -> {
            double decodeSum = 0;
            double prefillSum = 0;
            double betaSum = 0;
            int decodeN = 0;
            int prefillN = 0;
            int betaN = 0;
            for (Map.Entry<String, SpeedStats> e : perModel.entrySet()) {
                SpeedStats.View v = e.getValue().view();
                ModelAverage avg = models.get(e.getKey());
                double d = v.logDecode1(Double.isNaN(v.slowdown) ? defaultBeta : v.slowdown);
                if (!Double.isNaN(d) && !Double.isNaN(avg.logDecode)) {
                    decodeSum += d - avg.logDecode;
                    decodeN++;
                }
                if (!v.prefill.isEmpty() && !Double.isNaN(avg.logPrefill)) {
                    prefillSum += v.prefill.mean() - avg.logPrefill;
                    prefillN++;
                }
                if (!Double.isNaN(v.slowdown)) {
                    betaSum += v.slowdown;
                    betaN++;
                }
            }
            backends.put(backend, new BackendFactor(decodeN > 0 ? decodeSum / decodeN : Double.NaN,
                    prefillN > 0 ? prefillSum / prefillN : Double.NaN, betaN > 0 ? betaSum / betaN : Double.NaN));
        });
        return new Fleetwide(Map.copyOf(models), Map.copyOf(backends));
    }

    /** Geometric means over the backends that served the model (logs; NaN when none). */
    private record ModelAverage(double logPrefill, double logDecode, double logLoad) {
    }

    /** A backend's speed relative to the fleet average (log), and its typical β; NaN when unknown. */
    private record BackendFactor(double logDecode, double logPrefill, double slowdown) {
    }

    private record Fleetwide(Map<String, ModelAverage> models, Map<String, BackendFactor> backends) {
    }

    private record Cached(Fleetwide basis, Speeds speeds) {
    }
}

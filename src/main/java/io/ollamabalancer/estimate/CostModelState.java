package io.ollamabalancer.estimate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the estimate package learns, as the cluster's {@link LearnedState}: a replica that starts late borrows the
 * others' backend speeds, output lengths and token calibration and routes well from its first request.
 *
 * <p><b>Records.</b> One {@link WeightedStats} per key, its weight the number of samples behind it, so records of
 * several replicas merge by weight:
 * <pre>
 * speed|&lt;backend&gt;|&lt;model&gt;    decodeTps (single stream), slowdown (β, when fitted)   weight: decode samples
 * prefill|&lt;backend&gt;|&lt;model&gt;  prefillTps                                          weight: prefill samples
 * load|&lt;backend&gt;|&lt;model&gt;     loadMs (a cold load)                                weight: cold loads
 * output|&lt;model&gt;             logMean, logSquare (moments of ln eval_count)       weight: decayed samples
 * prompt|&lt;model&gt;             ratio (prompt_eval_count / our raw count)           weight: samples
 * calibration                 ratio (tokenizer count / length-based estimate)     weight: exact counts
 * </pre>
 * Backend and model names are percent-escaped ({@code %}, {@code |}). Rates are kept in natural units, so the
 * merge is a weighted arithmetic mean; output lengths as log moments, whose merge is exact.
 *
 * <p><b>Own versus imported.</b> {@link #ownObservations()} exports this replica's own samples only, never what it
 * imported, so no sample is counted twice. {@link #absorb} installs the other replicas' merged records as a
 * <em>prior</em>, replacing the previous import: the models use it until they have samples of their own and then
 * blend it with them, its say capped at a few samples' worth ({@link Blend}); local evidence is never overridden.
 *
 * <p><b>Validation.</b> Redis's data is not trusted: a figure that is not finite, not positive where it must be,
 * or outside generous physical bounds (say a decode rate above a million tokens per second) is dropped, and a
 * malformed key is ignored; {@link WeightedStats} has already checked the weights.
 *
 * <p>Threading: both methods run on the cluster thread while event loops read and update the models. Exports read
 * the models' published immutable views; imports swap immutable values into volatile fields (the cost model
 * rebuilds its fleet-wide averages at once, as a material change from a finished request does), so readers never
 * wait and never see half an import. Neither method blocks on I/O.
 */
public final class CostModelState implements LearnedState {
    private static final Logger log = LoggerFactory.getLogger(CostModelState.class);

    static final String SPEED = "speed";
    static final String PREFILL = "prefill";
    static final String LOAD = "load";
    static final String OUTPUT = "output";
    static final String PROMPT = "prompt";
    static final String CALIBRATION = "calibration";

    private static final double MIN_TPS = 0.01;
    private static final double MAX_TPS = 1e6;
    private static final double MAX_SLOWDOWN = 2;
    private static final double MIN_LOAD_MS = 1;
    private static final double MAX_LOAD_MS = 3_600_000;
    private static final double MIN_RATIO = 0.2;
    private static final double MAX_RATIO = 5;
    /** ln of ten million tokens: no generation is longer. */
    private static final double MAX_LOG_LENGTH = Math.log(1e7);
    private static final double MAX_LOG_SD = 3;

    private final CostModel costModel;
    private final RequestEstimator estimator;

    public CostModelState(CostModel costModel, RequestEstimator estimator) {
        this.costModel = costModel;
        this.estimator = estimator;
    }

    @Override
    public Map<String, WeightedStats> ownObservations() {
        Map<String, WeightedStats> out = new HashMap<>();
        costModel.ownFigures().forEach((backend, models) -> models.forEach((model, f) -> {
            String pair = escape(backend) + "|" + escape(model);
            if (f.decodeWeight() > 0) {
                Map<String, Double> v = new HashMap<>();
                v.put("decodeTps", f.decodeTps());
                if (!Double.isNaN(f.slowdown())) {
                    v.put("slowdown", f.slowdown());
                }
                put(out, SPEED + "|" + pair, f.decodeWeight(), v);
            }
            if (f.prefillWeight() > 0) {
                put(out, PREFILL + "|" + pair, f.prefillWeight(), Map.of("prefillTps", f.prefillTps()));
            }
            if (f.loadWeight() > 0) {
                put(out, LOAD + "|" + pair, f.loadWeight(), Map.of("loadMs", f.loadNanos() / 1e6));
            }
        }));
        estimator.ownOutputLengths().forEach((model, m) -> {
            Map<String, Double> moments = new TreeMap<>();
            moments.put("logMean", m.logMean());
            moments.put("logSquare", m.logSquare());
            put(out, OUTPUT + "|" + escape(model), m.weight(), moments);
        });
        estimator.ownPromptRatios().forEach((model, r) -> put(out, PROMPT + "|" + escape(model), r.weight(),
                Map.of("ratio", Math.exp(r.logMean()))));
        RequestEstimator.LogFigure c = estimator.ownCalibration();
        if (c != null) {
            put(out, CALIBRATION, c.weight(), Map.of("ratio", Math.exp(c.logMean())));
        }
        return out;
    }

    @Override
    public void absorb(Map<String, WeightedStats> others) {
        Map<String, Map<String, double[]>> speeds = new HashMap<>();
        Map<String, OutputLengths.Moments> outputs = new HashMap<>();
        Map<String, RequestEstimator.LogFigure> ratios = new HashMap<>();
        RequestEstimator.LogFigure calibration = null;
        int dropped = 0;
        for (Map.Entry<String, WeightedStats> e : others.entrySet()) {
            String[] key = e.getKey().split("\\|", -1);
            WeightedStats w = e.getValue();
            boolean used = false;
            if (key.length == 3 && (key[0].equals(SPEED) || key[0].equals(PREFILL) || key[0].equals(LOAD))) {
                used = speed(key[0], w, speeds.computeIfAbsent(unescape(key[1]), b -> new HashMap<>())
                        .computeIfAbsent(unescape(key[2]), m -> emptyFigures()));
            } else if (key.length == 2 && key[0].equals(OUTPUT)) {
                OutputLengths.Moments m = moments(w);
                used = m != null && outputs.put(unescape(key[1]), m) == null;
            } else if (key.length == 2 && key[0].equals(PROMPT)) {
                RequestEstimator.LogFigure r = ratio(w);
                used = r != null && ratios.put(unescape(key[1]), r) == null;
            } else if (key.length == 1 && key[0].equals(CALIBRATION)) {
                calibration = ratio(w);
                used = calibration != null;
            }
            if (!used) {
                dropped++;
            }
        }
        Map<String, Map<String, SpeedFigures>> figures = new HashMap<>();
        speeds.forEach((backend, models) -> models.forEach((model, f) -> {
            SpeedFigures sf = new SpeedFigures(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
            if (!sf.isEmpty()) {
                figures.computeIfAbsent(backend, b -> new HashMap<>()).put(model, sf);
            }
        }));
        costModel.prior(figures);
        estimator.prior(ratios, outputs, calibration);
        if (dropped > 0) {
            log.debug("ignored {} of {} shared statistics records (unknown, malformed or out of bounds)", dropped,
                    others.size());
        }
    }

    /** {@link SpeedFigures}' fields, nothing known yet. */
    private static double[] emptyFigures() {
        return new double[] {Double.NaN, 0, Double.NaN, Double.NaN, 0, Double.NaN, 0};
    }

    /** One speed, prefill or load record into a pair's figures; false (figures untouched) when out of bounds. */
    private static boolean speed(String kind, WeightedStats w, double[] f) {
        switch (kind) {
            case SPEED -> {
                double tps = value(w, "decodeTps");
                if (!within(tps, MIN_TPS, MAX_TPS)) {
                    return false;
                }
                double beta = value(w, "slowdown");
                f[0] = tps;
                f[1] = w.weight();
                f[2] = within(beta, 0, MAX_SLOWDOWN) ? beta : Double.NaN;
            }
            case PREFILL -> {
                double tps = value(w, "prefillTps");
                if (!within(tps, MIN_TPS, MAX_TPS)) {
                    return false;
                }
                f[3] = tps;
                f[4] = w.weight();
            }
            default -> {
                double ms = value(w, "loadMs");
                if (!within(ms, MIN_LOAD_MS, MAX_LOAD_MS)) {
                    return false;
                }
                f[5] = ms * 1e6;
                f[6] = w.weight();
            }
        }
        return true;
    }

    /** Output-length moments, or {@code null} when out of bounds. */
    private static OutputLengths.Moments moments(WeightedStats w) {
        double mean = value(w, "logMean");
        double square = value(w, "logSquare");
        if (!within(mean, 0, MAX_LOG_LENGTH) || !within(square, 0, MAX_LOG_LENGTH * MAX_LOG_LENGTH)) {
            return null;
        }
        OutputLengths.Moments m = new OutputLengths.Moments(mean, square, w.weight());
        return m.logSd() <= MAX_LOG_SD ? m : null;
    }

    /** A token ratio in log space, or {@code null} when out of bounds. */
    private static RequestEstimator.LogFigure ratio(WeightedStats w) {
        double r = value(w, "ratio");
        return within(r, MIN_RATIO, MAX_RATIO) ? new RequestEstimator.LogFigure(Math.log(r), w.weight()) : null;
    }

    private static double value(WeightedStats w, String name) {
        Double v = w.values().get(name);
        return v == null ? Double.NaN : v;
    }

    private static boolean within(double v, double min, double max) {
        return v >= min && v <= max;
    }

    private static void put(Map<String, WeightedStats> out, String key, double weight, Map<String, Double> values) {
        for (double v : values.values()) {
            if (!Double.isFinite(v)) {
                return;
            }
        }
        if (weight > 0 && Double.isFinite(weight)) {
            out.put(key, new WeightedStats(weight, values));
        }
    }

    static String escape(String name) {
        return name.replace("%", "%25").replace("|", "%7C");
    }

    /** The inverse of {@link #escape}; any other {@code %} sequence stays as it is. */
    static String unescape(String name) {
        if (name.indexOf('%') < 0) {
            return name;
        }
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            if (name.startsWith("%25", i)) {
                sb.append('%');
                i += 2;
            } else if (name.startsWith("%7C", i)) {
                sb.append('|');
                i += 2;
            } else {
                sb.append(name.charAt(i));
            }
        }
        return sb.toString();
    }
}

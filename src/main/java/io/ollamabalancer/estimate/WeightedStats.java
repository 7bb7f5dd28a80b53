package io.ollamabalancer.estimate;

import static java.util.Collections.unmodifiableMap;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Observations under one key (say, one backend × model): named averages and the weight behind them (usually the
 * number of samples). Replicas' records of the same key merge by weight: the merged weight is the sum, each value
 * the weight-averaged mean over the records that have it. Immutable.
 *
 * @param weight how much the values are worth (samples); positive and finite
 * @param values named averages; all finite
 */
public record WeightedStats(double weight, Map<String, Double> values) {
    /** Weights above this are clamped: a corrupt record must not drown everyone else's. */
    public static final double MAX_WEIGHT = 1e12;

    public WeightedStats {
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("weight must be positive and finite: " + weight);
        }
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                throw new IllegalArgumentException("value " + e.getKey() + " is not finite: " + e.getValue());
            }
        }
        values = unmodifiableMap(new TreeMap<>(values));
    }

    /** Merges records of one key from several replicas. */
    public static WeightedStats merge(Collection<WeightedStats> records) {
        double total = 0;
        Map<String, double[]> sums = new HashMap<>();
        for (WeightedStats r : records) {
            total += r.weight;
            r.values.forEach((k, v) -> {
                double[] s = sums.computeIfAbsent(k, x -> new double[2]);
                s[0] += r.weight * v;
                s[1] += r.weight;
            });
        }
        Map<String, Double> out = new HashMap<>();
        sums.forEach((k, s) -> out.put(k, s[0] / s[1]));
        return new WeightedStats(Math.min(MAX_WEIGHT, total), out);
    }
}

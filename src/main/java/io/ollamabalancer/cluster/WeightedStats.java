package io.ollamabalancer.cluster;

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
    static final double MAX_WEIGHT = 1e12;

    public WeightedStats {
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("weight must be positive and finite: " + weight);
        }
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                throw new IllegalArgumentException("value " + e.getKey() + " is not finite: " + e.getValue());
            }
        }
        values = Map.copyOf(values);
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

    /** {@code w=<weight>;name=value;…}, names percent-escaped; the form stored in Redis. */
    String encode() {
        StringBuilder sb = new StringBuilder("w=").append(weight);
        for (Map.Entry<String, Double> e : new TreeMap<>(values).entrySet()) {
            sb.append(';').append(escape(e.getKey())).append('=').append(e.getValue());
        }
        return sb.toString();
    }

    /**
     * Parses a stored record. Redis's data is not trusted: a malformed record, a non-finite value or a non-positive
     * weight yields {@code null} (the record is ignored), and the weight is clamped to {@link #MAX_WEIGHT}.
     */
    static WeightedStats decode(String s) {
        if (s == null || !s.startsWith("w=")) {
            return null;
        }
        try {
            String[] parts = s.split(";", -1);
            double w = Double.parseDouble(parts[0].substring(2));
            if (!(w > 0) || Double.isNaN(w)) {
                return null;
            }
            Map<String, Double> values = new HashMap<>();
            for (int i = 1; i < parts.length; i++) {
                int eq = parts[i].indexOf('=');
                if (eq <= 0) {
                    return null;
                }
                double v = Double.parseDouble(parts[i].substring(eq + 1));
                if (!Double.isFinite(v)) {
                    return null;
                }
                values.put(unescape(parts[i].substring(0, eq)), v);
            }
            return new WeightedStats(Math.min(MAX_WEIGHT, w), values);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String escape(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '%' || c == ';' || c == '=') {
                sb.append('%').append(String.format("%02X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static String unescape(String name) {
        if (name.indexOf('%') < 0) {
            return name;
        }
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '%' && i + 2 < name.length()) {
                sb.append((char) Integer.parseInt(name.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}

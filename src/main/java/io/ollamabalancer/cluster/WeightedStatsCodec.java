package io.ollamabalancer.cluster;

import io.ollamabalancer.estimate.WeightedStats;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The form a {@link WeightedStats} record takes in Redis, and back. The cluster owns this wire format; the estimate
 * package owns the numbers. Stateless and thread-safe.
 */
final class WeightedStatsCodec {
    private WeightedStatsCodec() {
    }

    /** {@code w=<weight>;name=value;…}, names percent-escaped; the form stored in Redis. */
    static String encode(WeightedStats stats) {
        StringBuilder sb = new StringBuilder("w=").append(stats.weight());
        for (Map.Entry<String, Double> e : new TreeMap<>(stats.values()).entrySet()) {
            sb.append(';').append(escape(e.getKey())).append('=').append(e.getValue());
        }
        return sb.toString();
    }

    /**
     * Parses a stored record. Redis's data is not trusted: a malformed record, a non-finite value or a non-positive
     * weight yields {@code null} (the record is ignored), and the weight is clamped to
     * {@link WeightedStats#MAX_WEIGHT}.
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
            return new WeightedStats(Math.min(WeightedStats.MAX_WEIGHT, w), values);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String escape(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '%' || c == ';' || c == '=') {
                sb.append('%').append(String.format(Locale.ROOT, "%02X", (int) c));
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

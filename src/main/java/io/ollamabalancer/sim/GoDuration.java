package io.ollamabalancer.sim;

import java.math.BigDecimal;
import java.util.Map;

/**
 * Ollama's {@code keep_alive}: a JSON number of seconds or a Go duration string ({@code "5m"}, {@code "1h30m"},
 * {@code "300ms"}); negative means forever. Parses with Go's error texts. Stateless.
 */
final class GoDuration {
    /** Nanoseconds meaning "never expire" (Go's {@code math.MaxInt64}). */
    static final long FOREVER = Long.MAX_VALUE;

    private static final Map<String, Long> UNITS = Map.of(
            "ns", 1L, "us", 1_000L, "\u00b5s", 1_000L, "\u03bcs", 1_000L, "ms", 1_000_000L,
            "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    private GoDuration() {
    }

    /** The {@code keep_alive} value in nanoseconds ({@link #FOREVER} if negative), or null if absent or null. */
    static Long keepAlive(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Number) {
            double seconds = ((Number) v).doubleValue();
            return seconds < 0 ? FOREVER : (long) (seconds * 1e9);
        }
        if (v instanceof String) {
            long ns = parse((String) v);
            return ns < 0 ? FOREVER : ns;
        }
        throw new BadRequestException("Unsupported type: '" + goTypeName(v) + "'");
    }

    private static String goTypeName(Object v) {
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof java.util.List) {
            return "[]interface {}";
        }
        return "map[string]interface {}";
    }

    /** Go's {@code time.ParseDuration}. */
    static long parse(String s) {
        String orig = s;
        int i = 0;
        boolean negative = false;
        if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        if (s.substring(i).equals("0")) {
            return 0;
        }
        if (i == s.length()) {
            throw invalid(orig);
        }
        BigDecimal total = BigDecimal.ZERO;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            boolean pre = i > start;
            boolean post = false;
            if (i < s.length() && s.charAt(i) == '.') {
                i++;
                int fracStart = i;
                while (i < s.length() && Character.isDigit(s.charAt(i))) {
                    i++;
                }
                post = i > fracStart;
            }
            if (!pre && !post) {
                throw invalid(orig);
            }
            String number = s.substring(start, i);
            int unitStart = i;
            while (i < s.length() && s.charAt(i) != '.' && !Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (unitStart == i) {
                throw new BadRequestException("time: missing unit in duration " + quote(orig));
            }
            String unit = s.substring(unitStart, i);
            Long scale = UNITS.get(unit);
            if (scale == null) {
                throw new BadRequestException("time: unknown unit " + quote(unit) + " in duration " + quote(orig));
            }
            total = total.add(new BigDecimal(number.endsWith(".") ? number + "0" : number)
                    .multiply(BigDecimal.valueOf(scale)));
        }
        if (total.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw invalid(orig);
        }
        long ns = total.longValue();
        return negative ? -ns : ns;
    }

    private static BadRequestException invalid(String s) {
        return new BadRequestException("time: invalid duration " + quote(s));
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}

package io.ollamabalancer.sim;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * Go's text formats that Ollama's wire format inherits: RFC3339Nano timestamps with trailing zeros trimmed, and
 * encoding/json's float notation. Stateless.
 */
final class GoFormats {
    private GoFormats() {
    }

    /** {@code created_at}: UTC, e.g. {@code 2025-10-26T17:15:24.097767Z}. */
    static String utc(Instant t) {
        return rfc3339Nano(t.atZone(ZoneOffset.UTC));
    }

    /** {@code modified_at} / {@code expires_at}: local time with its offset, e.g. {@code …48.639712648-07:00}. */
    static String local(Instant t, ZoneId zone) {
        return rfc3339Nano(t.atZone(zone));
    }

    static String rfc3339Nano(ZonedDateTime t) {
        LocalDateTime d = t.toLocalDateTime();
        StringBuilder sb = new StringBuilder(40);
        int year = d.getYear();
        pad(sb, year, 4).append('-');
        pad(sb, d.getMonthValue(), 2).append('-');
        pad(sb, d.getDayOfMonth(), 2).append('T');
        pad(sb, d.getHour(), 2).append(':');
        pad(sb, d.getMinute(), 2).append(':');
        pad(sb, d.getSecond(), 2);
        int nanos = d.getNano();
        if (nanos != 0) {
            String frac = String.format(Locale.ROOT, "%09d", nanos);
            int end = frac.length();
            while (frac.charAt(end - 1) == '0') {
                end--;
            }
            sb.append('.').append(frac, 0, end);
        }
        int offset = t.getOffset().getTotalSeconds();
        if (offset == 0) {
            sb.append('Z');
        } else {
            sb.append(offset < 0 ? '-' : '+');
            int abs = Math.abs(offset);
            pad(sb, abs / 3600, 2).append(':');
            pad(sb, (abs / 60) % 60, 2);
        }
        return sb.toString();
    }

    private static StringBuilder pad(StringBuilder sb, int v, int width) {
        String s = Integer.toString(v);
        for (int i = s.length(); i < width; i++) {
            sb.append('0');
        }
        return sb.append(s);
    }

    /** A float32 as Go's encoding/json writes it: shortest digits, plain between 1e-6 and 1e21, else {@code 1e-7}. */
    static String float32(float v) {
        if (Float.isNaN(v) || Float.isInfinite(v)) {
            throw new IllegalArgumentException("unsupported value: " + v);
        }
        return format(new BigDecimal(Float.toString(v)), Math.abs(v) != 0 && (Math.abs(v) < 1e-6f || Math.abs(v) >= 1e21f));
    }

    /** A float64 as Go's encoding/json writes it. */
    static String float64(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("unsupported value: " + v);
        }
        return format(new BigDecimal(Double.toString(v)), Math.abs(v) != 0 && (Math.abs(v) < 1e-6 || Math.abs(v) >= 1e21));
    }

    private static String format(BigDecimal value, boolean exponent) {
        BigDecimal d = value.stripTrailingZeros();
        if (d.signum() == 0) {
            return "0";
        }
        if (!exponent) {
            return d.toPlainString();
        }
        String digits = d.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - d.scale();
        StringBuilder sb = new StringBuilder();
        if (d.signum() < 0) {
            sb.append('-');
        }
        sb.append(digits.charAt(0));
        if (digits.length() > 1) {
            sb.append('.').append(digits, 1, digits.length());
        }
        sb.append('e').append(exp < 0 ? '-' : '+');
        int absExp = Math.abs(exp);
        // Go prints at least two exponent digits, then encoding/json trims a negative "e-07" back to "e-7".
        if (absExp < 10 && exp > 0) {
            sb.append('0');
        }
        return sb.append(absExp).toString();
    }
}

package io.ollamabalancer.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * Parses and formats durations written by people: {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d},
 * combinations such as {@code 1m30s}, the bare {@code 0}, and ISO-8601 ({@code PT30S}). A bare number other than
 * zero is rejected because its unit would be a guess. Stateless and thread-safe.
 */
public final class Durations {
    private Durations() {
    }

    /** Parses a duration; throws {@link ConfigException} with a one-line explanation if it is not one. */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new ConfigException("empty duration (expected e.g. 250ms, 30s, 5m or 1h)");
        }
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.startsWith("p")) {
            try {
                return Duration.parse(s.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw invalid(text);
            }
        }
        if (s.chars().allMatch(Character::isDigit)) {
            if (s.chars().allMatch(c -> c == '0')) {
                return Duration.ZERO;
            }
            throw new ConfigException("duration \"" + text.strip() + "\" needs a unit (e.g. " + s + "s or " + s
                    + "ms)");
        }
        Duration total = Duration.ZERO;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            int unitStart = i;
            while (i < s.length() && Character.isLetter(s.charAt(i))) {
                i++;
            }
            if (start == unitStart || unitStart == i) {
                throw invalid(text);
            }
            try {
                long n = Long.parseLong(s.substring(start, unitStart));
                total = total.plus(unit(s.substring(unitStart, i), n, text));
            } catch (NumberFormatException | ArithmeticException e) {
                throw new ConfigException("duration \"" + text.strip() + "\" is too large");
            }
        }
        return total;
    }

    /** A compact form that {@link #parse} reads back: {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0";
        }
        if (ms % 86_400_000L == 0) {
            return ms / 86_400_000L + "d";
        }
        if (ms % 3_600_000L == 0) {
            return ms / 3_600_000L + "h";
        }
        if (ms % 60_000L == 0) {
            return ms / 60_000L + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    private static Duration unit(String unit, long n, String text) {
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> throw invalid(text);
        };
    }

    private static ConfigException invalid(String text) {
        return new ConfigException("invalid duration \"" + text.strip() + "\" (expected e.g. 250ms, 30s, 5m, 1h or 1m30s)");
    }
}

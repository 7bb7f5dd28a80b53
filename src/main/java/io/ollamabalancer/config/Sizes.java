package io.ollamabalancer.config;

import java.util.Locale;

/**
 * Parses and formats byte sizes written by people: {@code 1048576}, {@code 64KB}, {@code 256MB}, {@code 1g},
 * {@code 2 GiB}. Units are binary (K = 1024) and case-insensitive; {@code B} may be omitted. Whole numbers only.
 * Stateless and thread-safe.
 */
public final class Sizes {
    private Sizes() {
    }

    /** Parses a size in bytes; throws {@link ConfigException} with a one-line explanation if it is not one. */
    public static long parseBytes(String text) {
        if (text == null || text.isBlank()) {
            throw new ConfigException("empty size (expected e.g. 256MB, 1g or 1048576)");
        }
        String s = text.strip();
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == 0) {
            throw invalid(text);
        }
        String unit = s.substring(i).strip().toLowerCase(Locale.ROOT);
        long multiplier = switch (unit) {
            case "", "b" -> 1L;
            case "k", "kb", "kib" -> 1L << 10;
            case "m", "mb", "mib" -> 1L << 20;
            case "g", "gb", "gib" -> 1L << 30;
            case "t", "tb", "tib" -> 1L << 40;
            default -> throw invalid(text);
        };
        long number;
        try {
            number = Long.parseLong(s.substring(0, i));
            return Math.multiplyExact(number, multiplier);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ConfigException("size \"" + text.strip() + "\" is too large");
        }
    }

    /** The shortest exact form with a binary unit: 268435456 → {@code 256MB}, 1000 → {@code 1000B}. */
    public static String format(long bytes) {
        String[] units = {"TB", "GB", "MB", "KB"};
        int[] shifts = {40, 30, 20, 10};
        for (int u = 0; u < units.length; u++) {
            long unit = 1L << shifts[u];
            if (bytes != 0 && bytes % unit == 0) {
                return (bytes / unit) + units[u];
            }
        }
        return bytes + "B";
    }

    private static ConfigException invalid(String text) {
        return new ConfigException("invalid size \"" + text.strip() + "\" (expected e.g. 256MB, 64KB, 1g or 1048576)");
    }
}

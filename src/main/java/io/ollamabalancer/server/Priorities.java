package io.ollamabalancer.server;

import java.util.Locale;

/** TEMPORARY: X-Priority parsing until the scheduling branch provides Priority.parse. */
final class Priorities {
    private Priorities() {
    }

    static int parse(String v) {
        if (v == null || v.isBlank()) {
            return 0;
        }
        switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "high":
                return 10;
            case "low":
                return -10;
            case "normal":
                return 0;
            default:
                try {
                    return Math.max(-100, Math.min(100, Integer.parseInt(v.trim())));
                } catch (NumberFormatException e) {
                    return 0;
                }
        }
    }
}

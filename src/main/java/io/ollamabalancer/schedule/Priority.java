package io.ollamabalancer.schedule;

import java.util.Locale;

/**
 * Request priority from the {@code X-Priority} header: larger runs first, and strictly so (a waiting request of
 * higher priority always leaves its model's queue before any lower one). Stateless.
 *
 * <table>
 *   <caption>Header values</caption>
 *   <tr><th>Header</th><th>Priority</th></tr>
 *   <tr><td>{@code high}</td><td>{@value #HIGH}</td></tr>
 *   <tr><td>{@code normal}, absent, empty, or anything unparsable</td><td>{@value #NORMAL}</td></tr>
 *   <tr><td>{@code low}</td><td>{@value #LOW}</td></tr>
 *   <tr><td>an integer</td><td>itself, clamped to [{@value #MIN}, {@value #MAX}]</td></tr>
 * </table>
 * Names are case-insensitive and trimmed. An unparsable value is not an error: the header is a hint, and a client
 * should not fail because of it.
 */
public final class Priority {
    public static final int HIGH = 10;
    public static final int NORMAL = 0;
    public static final int LOW = -10;
    public static final int MAX = 100;
    public static final int MIN = -100;

    private Priority() {
    }

    /** The priority an {@code X-Priority} header value asks for; {@code null} means {@link #NORMAL}. */
    public static int parse(String headerValue) {
        if (headerValue == null) {
            return NORMAL;
        }
        String v = headerValue.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "high":
                return HIGH;
            case "low":
                return LOW;
            case "normal":
            case "":
                return NORMAL;
            default:
                break;
        }
        if (!v.matches("[+-]?\\d{1,18}")) {
            return NORMAL;
        }
        long n = Long.parseLong(v);
        return (int) Math.max(MIN, Math.min(MAX, n));
    }
}

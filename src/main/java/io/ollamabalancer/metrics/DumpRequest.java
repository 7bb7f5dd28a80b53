package io.ollamabalancer.metrics;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code GET /debug/latency} was asked for, parsed from its query string. Immutable.
 *
 * <ul>
 *   <li>{@code format}: {@code text} (default, HdrHistogram percentile distributions), {@code hlog} (the interval
 *       log), {@code json} (a summary per histogram);</li>
 *   <li>{@code window}: {@code cumulative} (default, since start) or {@code interval} (the last completed
 *       interval); {@code since=<epochMs>} instead merges the kept intervals ending after that time;</li>
 *   <li>{@code name}: only histograms of that kind ({@code ttft}, {@code queue_wait}, …).</li>
 * </ul>
 *
 * @param sinceMs {@code -1} unless {@code window} is {@link Window#SINCE}
 * @param kind    {@code null} for all kinds
 */
public record DumpRequest(Format format, Window window, long sinceMs, LatencyKind kind) {

    public enum Format { TEXT, HLOG, JSON }

    public enum Window { CUMULATIVE, INTERVAL, SINCE }

    public static final DumpRequest DEFAULT = new DumpRequest(Format.TEXT, Window.CUMULATIVE, -1, null);

    /**
     * Parses the query parameters (as Netty's {@code QueryStringDecoder.parameters()} gives them).
     *
     * @throws IllegalArgumentException with a message fit for a 400 answer
     */
    public static DumpRequest parse(Map<String, List<String>> params) {
        Format format = Format.TEXT;
        String f = single(params, "format");
        if (f != null) {
            format = switch (f.toLowerCase(Locale.ROOT)) {
                case "text", "hgrm" -> Format.TEXT;
                case "hlog" -> Format.HLOG;
                case "json" -> Format.JSON;
                default -> throw new IllegalArgumentException("format must be text, hlog or json");
            };
        }
        Window window = Window.CUMULATIVE;
        String w = single(params, "window");
        if (w != null) {
            window = switch (w.toLowerCase(Locale.ROOT)) {
                case "cumulative" -> Window.CUMULATIVE;
                case "interval" -> Window.INTERVAL;
                default -> throw new IllegalArgumentException("window must be cumulative or interval");
            };
        }
        long since = -1;
        String s = single(params, "since");
        if (s != null) {
            if (w != null) {
                throw new IllegalArgumentException("give either window or since, not both");
            }
            try {
                since = Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("since must be epoch milliseconds");
            }
            if (since < 0) {
                throw new IllegalArgumentException("since must be epoch milliseconds");
            }
            window = Window.SINCE;
        }
        LatencyKind kind = null;
        String n = single(params, "name");
        if (n != null) {
            kind = LatencyKind.byLabel(n.trim().toLowerCase(Locale.ROOT));
            if (kind == null) {
                StringBuilder names = new StringBuilder();
                for (LatencyKind k : LatencyKind.values()) {
                    names.append(names.length() == 0 ? "" : ", ").append(k.label());
                }
                throw new IllegalArgumentException("name must be one of " + names);
            }
        }
        return new DumpRequest(format, window, since, kind);
    }

    private static String single(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw new IllegalArgumentException(name + " given more than once");
        }
        return values.get(0);
    }

    /** Whether a histogram of this kind is wanted. */
    public boolean wants(LatencyKind k) {
        return kind == null || kind == k;
    }
}

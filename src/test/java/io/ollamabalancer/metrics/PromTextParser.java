package io.ollamabalancer.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4, stricter than Prometheus itself: every family
 * needs HELP then TYPE before its samples, families are contiguous and appear once, counters end in
 * {@code _total}, summaries carry {@code quantile} in [0, 1] plus {@code _sum} and {@code _count} per series,
 * label values use only the three escapes, no series repeats. Any violation throws {@link IllegalArgumentException}
 * naming the line.
 */
final class PromTextParser {
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern VALUE = Pattern.compile(
            "[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?|NaN|[+-]Inf");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "summary", "histogram", "untyped");

    record Sample(String name, Map<String, String> labels, double value) {
    }

    record Family(String name, String type, String help, List<Sample> samples) {
    }

    private PromTextParser() {
    }

    static Map<String, Family> parse(String text) {
        if (text.isEmpty() || !text.endsWith("\n")) {
            throw new IllegalArgumentException("exposition must end with a newline");
        }
        Map<String, Family> families = new LinkedHashMap<>();
        Set<String> closed = new HashSet<>();
        Set<String> seriesSeen = new HashSet<>();
        String current = null;
        String pendingHelpName = null;
        String pendingHelp = null;
        String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            String where = "line " + (i + 1) + ": " + line;
            if (line.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("carriage return, " + where);
            }
            if (line.startsWith("# HELP ")) {
                String rest = line.substring(7);
                int sp = rest.indexOf(' ');
                String name = sp < 0 ? rest : rest.substring(0, sp);
                requireName(name, where);
                if (families.containsKey(name) || name.equals(pendingHelpName)) {
                    throw new IllegalArgumentException("HELP repeated or after TYPE, " + where);
                }
                if (current != null) {
                    closed.add(current);
                }
                current = null;
                pendingHelpName = name;
                pendingHelp = unescapeHelp(sp < 0 ? "" : rest.substring(sp + 1), where);
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ", -1);
                if (parts.length != 2 || !TYPES.contains(parts[1])) {
                    throw new IllegalArgumentException("bad TYPE, " + where);
                }
                String name = parts[0];
                requireName(name, where);
                if (!name.equals(pendingHelpName)) {
                    throw new IllegalArgumentException("TYPE without HELP just before it, " + where);
                }
                if (families.containsKey(name) || closed.contains(name)) {
                    throw new IllegalArgumentException("family repeated, " + where);
                }
                if (parts[1].equals("counter") && !name.endsWith("_total")) {
                    throw new IllegalArgumentException("counter not named _total, " + where);
                }
                families.put(name, new Family(name, parts[1], pendingHelp, new ArrayList<>()));
                current = name;
                pendingHelpName = null;
                continue;
            }
            if (line.startsWith("#") || line.isBlank()) {
                throw new IllegalArgumentException("unexpected comment or blank line, " + where);
            }
            if (current == null) {
                throw new IllegalArgumentException("sample outside a typed family, " + where);
            }
            Sample s = sample(line, where);
            Family f = families.get(current);
            checkBelongs(f, s, where);
            String seriesId = s.name() + new TreeMap<>(s.labels());
            if (!seriesSeen.add(seriesId)) {
                throw new IllegalArgumentException("series repeated, " + where);
            }
            f.samples().add(s);
        }
        if (pendingHelpName != null) {
            throw new IllegalArgumentException("HELP without TYPE for " + pendingHelpName);
        }
        for (Family f : families.values()) {
            if (f.type().equals("summary")) {
                checkSummaryComplete(f);
            }
        }
        return families;
    }

    private static void requireName(String name, String where) {
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad metric name, " + where);
        }
    }

    private static String unescapeHelp(String s, String where) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (++i >= s.length()) {
                throw new IllegalArgumentException("dangling escape in HELP, " + where);
            }
            char n = s.charAt(i);
            if (n == '\\') {
                sb.append('\\');
            } else if (n == 'n') {
                sb.append('\n');
            } else {
                throw new IllegalArgumentException("bad escape in HELP, " + where);
            }
        }
        return sb.toString();
    }

    private static Sample sample(String line, String where) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        requireName(name, where);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (true) {
                if (i >= line.length()) {
                    throw new IllegalArgumentException("unterminated labels, " + where);
                }
                if (line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int eq = line.indexOf('=', i);
                if (eq < 0) {
                    throw new IllegalArgumentException("label without '=', " + where);
                }
                String label = line.substring(i, eq);
                if (!LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
                    throw new IllegalArgumentException("bad label name '" + label + "', " + where);
                }
                i = eq + 1;
                if (i >= line.length() || line.charAt(i) != '"') {
                    throw new IllegalArgumentException("label value not quoted, " + where);
                }
                i++;
                StringBuilder v = new StringBuilder();
                while (true) {
                    if (i >= line.length()) {
                        throw new IllegalArgumentException("unterminated label value, " + where);
                    }
                    char c = line.charAt(i++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        if (i >= line.length()) {
                            throw new IllegalArgumentException("dangling escape, " + where);
                        }
                        char n = line.charAt(i++);
                        switch (n) {
                            case '\\' -> v.append('\\');
                            case '"' -> v.append('"');
                            case 'n' -> v.append('\n');
                            default -> throw new IllegalArgumentException("bad escape \\" + n + ", " + where);
                        }
                    } else {
                        v.append(c);
                    }
                }
                if (labels.put(label, v.toString()) != null) {
                    throw new IllegalArgumentException("label repeated, " + where);
                }
                if (i < line.length() && line.charAt(i) == ',') {
                    i++;
                } else if (i >= line.length() || line.charAt(i) != '}') {
                    throw new IllegalArgumentException("expected ',' or '}', " + where);
                }
            }
        }
        if (i >= line.length() || line.charAt(i) != ' ') {
            throw new IllegalArgumentException("expected one space before the value, " + where);
        }
        String[] rest = line.substring(i + 1).split(" ", -1);
        if (rest.length > 2 || !VALUE.matcher(rest[0]).matches()
                || (rest.length == 2 && !rest[1].matches("-?\\d+"))) {
            throw new IllegalArgumentException("bad value or timestamp, " + where);
        }
        return new Sample(name, labels, parseValue(rest[0]));
    }

    private static double parseValue(String v) {
        return switch (v) {
            case "NaN" -> Double.NaN;
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(v);
        };
    }

    private static void checkBelongs(Family f, Sample s, String where) {
        String n = f.name();
        switch (f.type()) {
            case "counter", "gauge", "untyped" -> {
                if (!s.name().equals(n)) {
                    throw new IllegalArgumentException("sample not of family " + n + ", " + where);
                }
                if (f.type().equals("counter") && (s.value() < 0 || Double.isNaN(s.value()))) {
                    throw new IllegalArgumentException("negative counter, " + where);
                }
            }
            case "summary" -> {
                if (s.name().equals(n)) {
                    String q = s.labels().get("quantile");
                    if (q == null || !VALUE.matcher(q).matches()) {
                        throw new IllegalArgumentException("summary sample without quantile, " + where);
                    }
                    double qv = Double.parseDouble(q);
                    if (qv < 0 || qv > 1) {
                        throw new IllegalArgumentException("quantile out of range, " + where);
                    }
                } else if (s.name().equals(n + "_sum") || s.name().equals(n + "_count")) {
                    if (s.labels().containsKey("quantile")) {
                        throw new IllegalArgumentException("quantile label on _sum/_count, " + where);
                    }
                } else {
                    throw new IllegalArgumentException("sample not of summary " + n + ", " + where);
                }
            }
            default -> throw new IllegalArgumentException("unsupported type " + f.type() + ", " + where);
        }
    }

    /** Every label set with quantiles also has _sum and _count, and vice versa. */
    private static void checkSummaryComplete(Family f) {
        Map<Map<String, String>, Set<String>> parts = new HashMap<>();
        for (Sample s : f.samples()) {
            Map<String, String> base = new TreeMap<>(s.labels());
            base.remove("quantile");
            String part = s.name().equals(f.name()) ? "quantile" : s.name().substring(f.name().length() + 1);
            parts.computeIfAbsent(base, k -> new HashSet<>()).add(part);
        }
        for (Map.Entry<Map<String, String>, Set<String>> e : parts.entrySet()) {
            if (!e.getValue().equals(Set.of("quantile", "sum", "count"))) {
                throw new IllegalArgumentException("summary " + f.name() + e.getKey() + " incomplete: "
                        + e.getValue());
            }
        }
    }

    /** The value of the one sample with this name and exactly these labels (name, value pairs). */
    static double value(Map<String, Family> families, String sampleName, String... labels) {
        Map<String, String> want = new HashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            want.put(labels[i], labels[i + 1]);
        }
        for (Family f : families.values()) {
            for (Sample s : f.samples()) {
                if (s.name().equals(sampleName) && s.labels().equals(want)) {
                    return s.value();
                }
            }
        }
        throw new AssertionError("no sample " + sampleName + want);
    }

    static boolean has(Map<String, Family> families, String sampleName, String... labels) {
        try {
            value(families, sampleName, labels);
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }
}

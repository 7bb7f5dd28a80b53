package io.ollamabalancer.metrics;

/**
 * Writes the Prometheus text exposition format (0.0.4): {@code # HELP}/{@code # TYPE} lines, samples with escaped
 * label values, Go-parsable numbers. Not thread-safe: one instance per render.
 */
final class PromWriter {
    private final StringBuilder sb;

    /** @param capacity the expected length (the last render's): the text is then built without regrowing */
    PromWriter(int capacity) {
        sb = new StringBuilder(Math.max(8192, capacity));
    }

    /** Starts a metric family. */
    PromWriter family(String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ');
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            if (c == '\\') {
                sb.append("\\\\");
            } else if (c == '\n') {
                sb.append("\\n");
            } else {
                sb.append(c);
            }
        }
        sb.append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample; {@code labels} alternate name, value. */
    PromWriter sample(String name, double value, String... labels) {
        sb.append(name);
        if (labels.length > 0) {
            sb.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(labels[i]).append("=\"");
                escapeLabelValue(labels[i + 1]);
                sb.append('"');
            }
            sb.append('}');
        }
        sb.append(' ');
        number(value);
        sb.append('\n');
        return this;
    }

    private void escapeLabelValue(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '"' -> sb.append("\\\"");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c);
            }
        }
    }

    private void number(double v) {
        if (Double.isNaN(v)) {
            sb.append("NaN");
        } else if (Double.isInfinite(v)) {
            sb.append(v > 0 ? "+Inf" : "-Inf");
        } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            sb.append((long) v);
        } else {
            sb.append(v);
        }
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}

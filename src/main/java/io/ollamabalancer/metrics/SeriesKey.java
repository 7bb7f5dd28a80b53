package io.ollamabalancer.metrics;

/**
 * Names one latency histogram: a {@link LatencyKind} over all requests, or over one model's or one backend's.
 * Immutable.
 *
 * @param kind       what is measured
 * @param labelName  {@code ""} for all requests, else {@link #MODEL} or {@link #BACKEND}
 * @param labelValue the model or backend ({@code ""} when {@code labelName} is empty)
 */
public record SeriesKey(LatencyKind kind, String labelName, String labelValue) {
    public static final String MODEL = "model";
    public static final String BACKEND = "backend";

    public static SeriesKey overall(LatencyKind kind) {
        return new SeriesKey(kind, "", "");
    }

    public boolean isOverall() {
        return labelName.isEmpty();
    }

    /** {@code ttft} or {@code ttft model=llama3.2:1b}, as in the dump's header lines. */
    public String describe() {
        return isOverall() ? kind.label() : kind.label() + " " + labelName + "=" + labelValue;
    }

    /**
     * The hlog tag: {@code ttft} or {@code ttft{model=llama3.2:1b}}. The hlog format splits on commas, spaces and
     * line breaks, so those (and other whitespace) become {@code _} in the value.
     */
    public String tag() {
        if (isOverall()) {
            return kind.label();
        }
        StringBuilder sb = new StringBuilder(kind.label().length() + labelName.length() + labelValue.length() + 3);
        sb.append(kind.label()).append('{').append(labelName).append('=');
        for (int i = 0; i < labelValue.length(); i++) {
            char c = labelValue.charAt(i);
            sb.append(c == ',' || Character.isWhitespace(c) || Character.isISOControl(c) ? '_' : c);
        }
        return sb.append('}').toString();
    }
}

package io.ollamabalancer.metrics;

/**
 * The latencies the balancer measures for every request, with the names they carry in the latency dump
 * ({@code ttft}) and in Prometheus ({@code ollama_balancer_ttft_seconds}). Stateless.
 */
public enum LatencyKind {
    /** Time spent waiting in the scheduler's queue. */
    QUEUE_WAIT("queue_wait", "queue_wait_seconds", "Time requests waited in the scheduler's queue."),
    /** Arrival to request sent upstream, minus queue wait: the balancer's own cost. */
    OVERHEAD("overhead", "overhead_seconds", "Time the balancer itself spent on a request, queue wait excluded."),
    /** Arrival to the first response chunk written to the client. */
    TTFT("ttft", "ttft_seconds", "Time from a request's arrival to its first response chunk."),
    /** Time between two consecutive streamed chunks, as written to the client. */
    TOKEN_GAP("token_gap", "token_gap_seconds", "Time between consecutive streamed response chunks."),
    /** Arrival to the last byte written (or the abort). */
    TOTAL("total", "request_duration_seconds", "Time from a request's arrival to the end of its response.");

    private final String label;
    private final String promSuffix;
    private final String help;

    LatencyKind(String label, String promSuffix, String help) {
        this.label = label;
        this.promSuffix = promSuffix;
        this.help = help;
    }

    /** The short name used in the latency dump, in hlog tags and in {@code ?name=} filters. */
    public String label() {
        return label;
    }

    /** The Prometheus name after {@code ollama_balancer_} (and after a {@code model_}/{@code backend_} scope). */
    public String promSuffix() {
        return promSuffix;
    }

    public String help() {
        return help;
    }

    /** The kind with this {@link #label()}, or {@code null}. */
    public static LatencyKind byLabel(String label) {
        for (LatencyKind k : values()) {
            if (k.label.equals(label)) {
                return k;
            }
        }
        return null;
    }
}

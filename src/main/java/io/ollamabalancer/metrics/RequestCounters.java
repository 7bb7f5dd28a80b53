package io.ollamabalancer.metrics;

/**
 * The balancer's request counters: requests by endpoint, model, backend and status; prompt and generated tokens
 * (from each response's final chunk) by model and backend; cancelled requests; upstream failures.
 *
 * <p>Thread-safe; fed by {@link LatencyRecorders} with labels already bounded.
 */
public final class RequestCounters {
    private static final String[] STATUS_LABELS = new String[600];

    static {
        for (int i = 0; i < STATUS_LABELS.length; i++) {
            STATUS_LABELS[i] = Integer.toString(i);
        }
    }

    private final CounterFamily requests;
    private final CounterFamily promptTokens;
    private final CounterFamily generatedTokens;
    private final CounterFamily cancelled;
    private final CounterFamily upstreamFailures;

    RequestCounters(int maxSeries) {
        requests = new CounterFamily(maxSeries, "endpoint", "model", "backend", "status");
        promptTokens = new CounterFamily(maxSeries, "model", "backend");
        generatedTokens = new CounterFamily(maxSeries, "model", "backend");
        cancelled = new CounterFamily(maxSeries, "endpoint", "model");
        upstreamFailures = new CounterFamily(maxSeries, "backend", "model");
    }

    void count(CompletedRequest r, String model, String backend) {
        String endpoint = r.endpoint() == null ? "" : r.endpoint();
        requests.add(1, endpoint, model, backend, status(r.status()));
        if (r.timing() != null) {
            promptTokens.add(r.timing().promptEvalCount(), model, backend);
            generatedTokens.add(r.timing().evalCount(), model, backend);
        }
        if (r.outcome() == Outcome.CANCELLED) {
            cancelled.add(1, endpoint, model);
        } else if (r.outcome() == Outcome.UPSTREAM_FAILED) {
            upstreamFailures.add(1, backend, model);
        }
    }

    /** The status label; the valid codes' strings are made once (a fresh string would be hashed per request). */
    private static String status(int code) {
        return code >= 0 && code < STATUS_LABELS.length ? STATUS_LABELS[code] : Integer.toString(code);
    }

    /** Labels: endpoint, model, backend, status. */
    public CounterFamily requests() {
        return requests;
    }

    /** Labels: model, backend. */
    public CounterFamily promptTokens() {
        return promptTokens;
    }

    /** Labels: model, backend. */
    public CounterFamily generatedTokens() {
        return generatedTokens;
    }

    /** Requests whose client left before the end. Labels: endpoint, model. */
    public CounterFamily cancelled() {
        return cancelled;
    }

    /** Requests a backend failed (died, broke the protocol). Labels: backend, model. */
    public CounterFamily upstreamFailures() {
        return upstreamFailures;
    }
}

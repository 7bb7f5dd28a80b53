package io.ollamabalancer.metrics;

/**
 * The balancer's request counters: requests by endpoint, model, backend and status; prompt and generated tokens
 * (from each response's final chunk) by model and backend; cancelled requests; upstream failures.
 *
 * <p>Thread-safe; fed by {@link LatencyRecorders} with labels already bounded.
 */
public final class RequestCounters {
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
        requests.add(1, endpoint, model, backend, Integer.toString(r.status()));
        if (r.timing() != null) {
            promptTokens.add(r.timing().promptEvalCount(), model, backend);
            generatedTokens.add(r.timing().evalCount(), model, backend);
        }
        if ("cancelled".equals(r.outcome())) {
            cancelled.add(1, endpoint, model);
        } else if ("upstream_failed".equals(r.outcome())) {
            upstreamFailures.add(1, backend, model);
        }
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

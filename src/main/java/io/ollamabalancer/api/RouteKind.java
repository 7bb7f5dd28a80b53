package io.ollamabalancer.api;

/** How the balancer serves a route. Stateless. */
public enum RouteKind {
    /** Model-routed work that occupies a backend slot and may wait in the scheduler's queue. */
    INFERENCE,
    /** Model-routed but cheap (show, {@code /v1/models/{m}}): goes straight to a backend that has the model. */
    MODEL_INFO,
    /** Answered by merging the healthy fleet's answers ({@code /api/tags}, {@code /api/ps}, …). */
    AGGREGATE,
    /** Answered by the balancer itself without asking a backend ({@code GET /}). */
    LOCAL,
    /** The balancer's own operational endpoints (health, metrics, status, admin). */
    BALANCER,
    /**
     * A model operation run on several backends and answered as one ({@code /api/pull}, {@code /api/copy},
     * {@code DELETE /api/delete}): package {@code fleetops}.
     */
    FLEET,
    /** Anything else Ollama serves: forwarded to one backend ({@code X-Ollama-Backend} or the first healthy one). */
    PASSTHROUGH
}

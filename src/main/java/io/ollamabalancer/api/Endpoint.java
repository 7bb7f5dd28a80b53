package io.ollamabalancer.api;

import io.ollamabalancer.request.BodyShape;

/**
 * The routes the balancer knows by name, with how each is served and which body shape it carries.
 * Anything not listed is {@link #PASSTHROUGH}. Stateless.
 */
public enum Endpoint {
    ROOT("/", RouteKind.LOCAL, null, false),
    VERSION("/api/version", RouteKind.AGGREGATE, null, false),
    TAGS("/api/tags", RouteKind.AGGREGATE, null, false),
    PS("/api/ps", RouteKind.AGGREGATE, null, false),
    V1_MODELS("/v1/models", RouteKind.AGGREGATE, null, true),
    V1_MODEL("/v1/models/", RouteKind.MODEL_INFO, null, true),
    GENERATE("/api/generate", RouteKind.INFERENCE, BodyShape.GENERATE, false),
    CHAT("/api/chat", RouteKind.INFERENCE, BodyShape.CHAT, false),
    EMBED("/api/embed", RouteKind.INFERENCE, BodyShape.EMBED, false),
    EMBEDDINGS("/api/embeddings", RouteKind.INFERENCE, BodyShape.EMBEDDINGS, false),
    SHOW("/api/show", RouteKind.MODEL_INFO, BodyShape.MODEL_ONLY, false),
    V1_CHAT("/v1/chat/completions", RouteKind.INFERENCE, BodyShape.OPENAI_CHAT, true),
    V1_COMPLETIONS("/v1/completions", RouteKind.INFERENCE, BodyShape.OPENAI_COMPLETION, true),
    V1_EMBEDDINGS("/v1/embeddings", RouteKind.INFERENCE, BodyShape.OPENAI_EMBED, true),
    /** The replaced project's {@code POST /ollama/generate {"prompt","model"}}: a non-streaming generate. */
    LEGACY_GENERATE("/ollama/generate", RouteKind.INFERENCE, BodyShape.GENERATE, false),
    HEALTH("/health", RouteKind.BALANCER, null, false),
    READY("/ready", RouteKind.BALANCER, null, false),
    METRICS("/metrics", RouteKind.BALANCER, null, false),
    DEBUG_LATENCY("/debug/latency", RouteKind.BALANCER, null, false),
    STATUS("/balancer/status", RouteKind.BALANCER, null, false),
    /** The dashboard page. */
    UI("/balancer/ui", RouteKind.BALANCER, null, false),
    /** The JSON the dashboard page polls. */
    UI_DATA("/balancer/ui/data", RouteKind.BALANCER, null, false),
    /** Each API key's use ({@code ?since=}); with {@code --api-keys} only. */
    USAGE("/balancer/usage", RouteKind.BALANCER, null, false),
    ADMIN("/balancer/backends/", RouteKind.BALANCER, null, false),
    /** {@code GET /balancer/requests/{id}}: where an inference request waits, or where it went. */
    REQUEST_STATUS("/balancer/requests/", RouteKind.BALANCER, null, false),
    /**
     * {@code /api/blobs/:digest}, any method: sent to the backend that holds the blob when known. A {@code POST}
     * carries the raw file (GBs), so every request on this route is streamed, never aggregated or size-limited.
     */
    BLOB("/api/blobs/", RouteKind.PASSTHROUGH, null, false),
    /** {@code POST /api/pull}: pulled on every available backend (or those named), one merged progress stream. */
    PULL("/api/pull", RouteKind.FLEET, null, false),
    /** {@code POST /api/copy}: copied on every backend holding the source. */
    COPY("/api/copy", RouteKind.FLEET, null, false),
    /** {@code DELETE /api/delete}: deleted on every backend holding the model. */
    DELETE("/api/delete", RouteKind.FLEET, null, false),
    /**
     * {@code POST /api/create}: sent to the backend holding the blobs its {@code files} and {@code adapters} name; one
     * from an installed model ({@code from}, no blobs) to every backend holding that model.
     */
    CREATE("/api/create", RouteKind.PASSTHROUGH, null, false),
    PASSTHROUGH(null, RouteKind.PASSTHROUGH, null, false);

    private final String path;
    private final RouteKind kind;
    private final BodyShape shape;
    private final boolean openAi;
    /** Made once: every finished request asks for it. */
    private final String label = name().toLowerCase(java.util.Locale.ROOT);

    Endpoint(String path, RouteKind kind, BodyShape shape, boolean openAi) {
        this.path = path;
        this.kind = kind;
        this.shape = shape;
        this.openAi = openAi;
    }

    /**
     * The path, or for {@link #V1_MODEL}, {@link #ADMIN}, {@link #REQUEST_STATUS} and {@link #BLOB} the prefix; {@code null} for
     * {@link #PASSTHROUGH}.
     */
    public String path() {
        return path;
    }

    public RouteKind kind() {
        return kind;
    }

    /** The body shape for the parser, {@code null} when the body is not read. */
    public BodyShape shape() {
        return shape;
    }

    /**
     * Whether the request body is forwarded part by part as it arrives instead of being collected first (and so has
     * no {@code --max-body} limit): only blob uploads, whose bodies are whole model files.
     */
    public boolean streamsBody() {
        return this == BLOB;
    }

    /** OpenAI-compatible routes answer errors in OpenAI's envelope. */
    public boolean openAi() {
        return openAi;
    }

    /** A short lower-case label for metrics and logs. */
    public String label() {
        return label;
    }
}

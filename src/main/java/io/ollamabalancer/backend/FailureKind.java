package io.ollamabalancer.backend;

/**
 * Every way a request to a backend can fail, each with its one rule for the backend's health and for a retry. The
 * exchanges classify what happened into a kind; {@link HealthTracker#onFailure} applies the health rule and the
 * exchange the retry rule, so no caller compares messages or decides either rule on its own. Immutable.
 *
 * <p>What counts against a backend is only what says the backend is unwell: nobody listening, a connection that
 * dies, a stream that dies or goes silent, a response that never comes. A backend's answer about the client's
 * request (a 5xx to {@code /api/pull} of a model that does not exist) is not evidence; neither is the balancer's own
 * connection bound, a keep-alive connection the backend closed while it sat idle, or a client that left.
 */
public enum FailureKind {
    /** Nothing listens on the backend's port, or its host is gone. Ejected at once; nothing was sent. */
    REFUSED(Health.EJECT, Retry.ELSEWHERE),
    /** The connection could not be made (timed out, unreachable for a while). Counts; nothing was sent. */
    CONNECT_FAILED(Health.COUNT, Retry.ELSEWHERE),
    /**
     * The balancer's own {@code --max-connections-per-backend} stayed reached for the whole wait for a connection.
     * Never counts; nothing was sent; another backend is preferred, but the backend is not excluded.
     */
    POOL_EXHAUSTED(Health.NONE, Retry.ELSEWHERE),
    /**
     * A reused keep-alive connection was closed or reset before any response byte: the backend closed it while it
     * sat idle, so it never read the request. Not counted; sent again once on a fresh connection to the same
     * backend, whatever the method.
     */
    RESET_ON_REUSED(Health.NONE, Retry.FRESH_CONNECTION),
    /** A fresh connection was closed or reset before any response byte. Counts; retried only if replayable. */
    RESET_BEFORE_RESPONSE(Health.COUNT, Retry.ELSEWHERE_IF_REPLAYABLE),
    /** Ollama's 503 "server busy" (its load queue is full): nothing ran. Not counted; tried on another backend. */
    BUSY(Health.NONE, Retry.ELSEWHERE),
    /** A 5xx answer, relayed to the client as it is: the backend's word about this request. Never counts. */
    ERROR_STATUS(Health.NONE, Retry.NONE),
    /** A generation whose 2xx stream carried an {@code {"error":…}} object (a runner failed mid-way). Counts. */
    ERROR_LINE(Health.COUNT, Retry.NONE),
    /** The connection closed or broke the protocol after the response head. Counts. */
    DIED_MID_STREAM(Health.COUNT, Retry.NONE),
    /** The response started and then sent nothing for {@code --stream-idle-timeout}. Counts. */
    STALL(Health.COUNT, Retry.NONE),
    /** No response head within the first-byte deadline; the request was (being) processed. Counts; 504. */
    FIRST_BYTE_TIMEOUT(Health.COUNT, Retry.NONE),
    /** The client left. Never counts. */
    CLIENT_GONE(Health.NONE, Retry.NONE);

    /** What a failure does to the backend's passive health. */
    public enum Health {
        /** Ejects at once, whatever the counts. */
        EJECT,
        /** One more consecutive passive failure (three eject). */
        COUNT,
        /** Nothing (a half-open trial it held is given back). */
        NONE
    }

    /** Where the request may go next. */
    public enum Retry {
        /** Nowhere: the client gets the answer or an error. */
        NONE,
        /** Once more on a fresh connection to the same backend (nothing was processed). */
        FRESH_CONNECTION,
        /** To another backend: nothing was sent. */
        ELSEWHERE,
        /** To another backend only when the request may be repeated (inference, model info; not a pass-through). */
        ELSEWHERE_IF_REPLAYABLE
    }

    private final Health health;
    private final Retry retry;

    FailureKind(Health health, Retry retry) {
        this.health = health;
        this.retry = retry;
    }

    public Health health() {
        return health;
    }

    public Retry retry() {
        return retry;
    }

    /**
     * Whether a request that moves on after this failure must never come back to the backend. True for what is
     * evidence against the backend, and for its own word that it cannot take the request now ({@link #BUSY}). False
     * for the balancer's own connection bound and a keep-alive connection the backend closed while idle: another
     * backend is preferred, but when the failed one is the only candidate the request goes back to it rather than
     * being refused for want of a backend.
     */
    public boolean excludesBackend() {
        return this != POOL_EXHAUSTED && this != RESET_ON_REUSED;
    }

    /** The kind of a failure to open a connection (from the pool's acquire). */
    public static FailureKind ofConnect(Throwable cause) {
        if (Failures.isLocal(cause)) {
            return POOL_EXHAUSTED;
        }
        return Failures.isConnectionRefused(cause) ? REFUSED : CONNECT_FAILED;
    }

    /** The kind of a connection that closed or failed before any response byte. */
    public static FailureKind ofEarlyClose(boolean reusedConnection) {
        return reusedConnection ? RESET_ON_REUSED : RESET_BEFORE_RESPONSE;
    }
}

package io.ollamabalancer.auth;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The answer to one request's admission under its key: a ticket to run, or a refusal with the seconds after which a
 * retry could pass ({@code Retry-After}; 0 when waiting would not help).
 *
 * <p>The ticket holds the key's concurrency place and the tokens charged at admission: {@link #release()} gives the
 * place back (once, whatever the outcome; call it when the exchange ends), and the real token counts, reported
 * with the request's completion, correct the charge. Thread-safe.
 */
public final class Admission {
    private final KeyState state;
    private final Refusal refusal;
    private final long retryAfterSeconds;
    private final long charged;
    private final Runnable onRelease;
    private final AtomicBoolean released = new AtomicBoolean();

    private Admission(KeyState state, Refusal refusal, long retryAfterSeconds, long charged, Runnable onRelease) {
        this.state = state;
        this.refusal = refusal;
        this.retryAfterSeconds = retryAfterSeconds;
        this.charged = charged;
        this.onRelease = onRelease;
    }

    static Admission admitted(KeyState state, long charged, Runnable onRelease) {
        return new Admission(state, null, 0, charged, onRelease);
    }

    static Admission refused(KeyState state, Refusal why, long retryAfterSeconds) {
        return new Admission(state, why, retryAfterSeconds, 0, () -> { });
    }

    /** Whether the request may run. */
    public boolean admitted() {
        return refusal == null;
    }

    /** Why not, or {@code null} when admitted. */
    public Refusal refusal() {
        return refusal;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The key it was admitted (or refused) under. */
    public KeyState key() {
        return state;
    }

    /** The tokens charged to the key's tokens-per-minute bucket at admission. */
    long charged() {
        return charged;
    }

    /** Gives the key's concurrency place back; only the first call counts. */
    public void release() {
        if (refusal == null && released.compareAndSet(false, true)) {
            state.leave();
            onRelease.run();
        }
    }

    /** The human-readable reason for a refusal, in the words the client sees. */
    public String message() {
        if (refusal == null) {
            return "";
        }
        ApiKey k = state.key();
        return switch (refusal) {
            case UNAUTHORIZED -> "unauthorized";
            case OVER_RPM -> "rate limit exceeded: key '" + k.name() + "' may send " + k.requestsPerMinute()
                    + " requests per minute";
            case OVER_TPM -> "rate limit exceeded: key '" + k.name() + "' may use " + k.tokensPerMinute()
                    + " tokens per minute";
            case OVER_CONCURRENCY -> "too many concurrent requests: key '" + k.name() + "' may run "
                    + k.maxConcurrent() + " at once";
            case MODEL_NOT_ALLOWED -> "key '" + k.name() + "' may not use this model";
        };
    }
}

package io.ollamabalancer.relay;

import io.ollamabalancer.api.RouteKind;
import io.ollamabalancer.backend.FailureKind;

/**
 * Where a request goes after an attempt failed before a response reached the client: the retry rule of the
 * failure's {@link FailureKind}, applied to what the request allows. Both exchanges ask it and follow its answer;
 * neither has a rule of its own.
 *
 * <p>What a request allows: pass-through requests (pull, create, delete, …) are not repeated once a backend may have
 * processed them, and never leave the backend they were sent to (the caller's {@code X-Ollama-Backend}, the holder of
 * their blobs); inference goes back to the scheduler's queue and model-info requests straight to another backend
 * with the model; a body that streams through ({@link #streamedBody}) is not kept, so it is never sent twice.
 *
 * <p>A failure that says nothing against the backend (the balancer's own connection bound, a keep-alive connection
 * the backend closed while idle; see {@link FailureKind#excludesBackend()}) only makes the request prefer other
 * backends, so with a single candidate it goes back to the same one. Such moves are bounded
 * ({@value #MAX_SOFT_MOVES} per request), so that a bound that stays reached ends in an answer, not a loop.
 *
 * <p>One per exchange: it remembers whether the one retry on a fresh connection was spent, and the moves made after
 * such failures. Confined to the exchange's event loop.
 */
final class RetryPolicy {
    /** The next step. */
    enum Next {
        /** Send it again on a newly opened connection to the same backend. */
        FRESH_CONNECTION,
        /** Put it back in the scheduler's queue, the failed backend excluded (inference). */
        REQUEUE,
        /** Send it straight to another backend that has the model (model info). */
        ANOTHER_BACKEND,
        /** Answer the client with an error. */
        GIVE_UP
    }

    /** How a request may move to another backend. */
    private enum Reroute { SCHEDULER, DIRECT, NONE }

    private final Reroute reroute;
    /** Whether the request may be sent again after a backend may have processed it. */
    private final boolean replayable;
    /** Whether the request's body is kept, so that it can be sent again at all. */
    private final boolean resendable;
    private boolean freshRetrySpent;
    /** Moves made after failures that do not exclude the backend. */
    private int softMoves;

    /** Moves after failures that say nothing against the backend, at most, before the request gives up. */
    static final int MAX_SOFT_MOVES = 3;

    private RetryPolicy(Reroute reroute, boolean replayable, boolean resendable) {
        this.reroute = reroute;
        this.replayable = replayable;
        this.resendable = resendable;
    }

    /** The policy of an aggregated request on {@code route}. */
    static RetryPolicy forRoute(RouteKind route) {
        return switch (route) {
            case INFERENCE -> new RetryPolicy(Reroute.SCHEDULER, true, true);
            case MODEL_INFO -> new RetryPolicy(Reroute.DIRECT, true, true);
            default -> new RetryPolicy(Reroute.NONE, false, true);
        };
    }

    /** The policy of a request whose body streams to the backend as it arrives: it is never sent twice. */
    static RetryPolicy streamedBody() {
        return new RetryPolicy(Reroute.NONE, false, false);
    }

    /** The step after a failure of {@code kind}; a {@link Next#FRESH_CONNECTION} answer spends the one such retry. */
    Next after(FailureKind kind) {
        if (!resendable) {
            return Next.GIVE_UP;
        }
        return switch (kind.retry()) {
            case NONE -> Next.GIVE_UP;
            case ELSEWHERE -> elsewhere(kind);
            case ELSEWHERE_IF_REPLAYABLE -> replayable ? elsewhere(kind) : Next.GIVE_UP;
            case FRESH_CONNECTION -> {
                if (!freshRetrySpent) {
                    freshRetrySpent = true;
                    yield Next.FRESH_CONNECTION;
                }
                // A second stale close in a row is unlikely to be idleness: an early close that may go on.
                yield replayable ? elsewhere(kind) : Next.GIVE_UP;
            }
        };
    }

    private Next elsewhere(FailureKind kind) {
        if (!kind.excludesBackend() && reroute != Reroute.NONE && ++softMoves > MAX_SOFT_MOVES) {
            return Next.GIVE_UP;
        }
        return switch (reroute) {
            case SCHEDULER -> Next.REQUEUE;
            case DIRECT -> Next.ANOTHER_BACKEND;
            case NONE -> Next.GIVE_UP;
        };
    }
}

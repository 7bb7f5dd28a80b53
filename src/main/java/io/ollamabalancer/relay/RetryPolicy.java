package io.ollamabalancer.relay;

import io.ollamabalancer.api.RouteKind;
import io.ollamabalancer.backend.FailureKind;

/**
 * Where a request goes after its attempt failed before a response reached the client: the retry rule of its
 * {@link FailureKind}, applied to the route. Pass-through requests (pull, create, delete, …) are not repeated once
 * a backend may have processed them; inference and model-info requests may be. Stateless.
 */
final class RetryPolicy {
    /** The next step. */
    enum Next {
        /** Send it again on a newly opened connection to the same backend. */
        FRESH_CONNECTION,
        /** Send it to another backend (through the scheduler for inference). */
        ELSEWHERE,
        /** Answer the client with an error. */
        GIVE_UP
    }

    private RetryPolicy() {
    }

    /**
     * @param freshRetrySpent whether this request already had its one retry on a fresh connection
     */
    static Next after(FailureKind kind, RouteKind route, boolean freshRetrySpent) {
        boolean replayable = route != RouteKind.PASSTHROUGH;
        return switch (kind.retry()) {
            case NONE -> Next.GIVE_UP;
            case ELSEWHERE -> Next.ELSEWHERE;
            case ELSEWHERE_IF_REPLAYABLE -> replayable ? Next.ELSEWHERE : Next.GIVE_UP;
            // A second stale close in a row is unlikely to be idleness: treat it as an early close that may go on.
            case FRESH_CONNECTION -> !freshRetrySpent ? Next.FRESH_CONNECTION
                    : replayable ? Next.ELSEWHERE : Next.GIVE_UP;
        };
    }
}

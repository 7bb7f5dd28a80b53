package io.ollamabalancer.metrics;

/**
 * Receives what the request path measured. Implementations must be cheap and non-blocking (they run on event
 * loops) and thread-safe.
 */
public interface RequestObserver {

    /** Does nothing; for tests and tools that run without metrics. */
    RequestObserver NOOP = new RequestObserver() {
        @Override
        public void requestCompleted(CompletedRequest request) {
        }

        @Override
        public TokenGaps tokenGaps(String model, String backend) {
            return TokenGaps.NONE;
        }
    };

    /** Called once per client request, when its response ended or it was abandoned. */
    void requestCompleted(CompletedRequest request);

    /**
     * Where the token gaps of one response of {@code model} from {@code backend} go: called once per response, when
     * it has a second chunk; the relay then records the time between each chunk and the previous one there.
     */
    TokenGaps tokenGaps(String model, String backend);

    /** One token gap, for callers without a response of their own (each call resolves the series anew). */
    default void tokenGap(String model, String backend, long gapNanos) {
        tokenGaps(model, backend).record(gapNanos);
    }
}

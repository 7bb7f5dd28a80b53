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
        public void tokenGap(String model, String backend, long gapNanos) {
        }
    };

    /** Called once per client request, when its response ended or it was abandoned. */
    void requestCompleted(CompletedRequest request);

    /** Called for each streamed chunk after the first: the time since the previous chunk, as written to the client. */
    void tokenGap(String model, String backend, long gapNanos);
}

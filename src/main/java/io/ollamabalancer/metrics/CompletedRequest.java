package io.ollamabalancer.metrics;

import io.ollamabalancer.estimate.TimingSample;

/**
 * One finished client request as the metrics and the access log see it. Durations are nanoseconds; a stage that
 * never happened is {@code -1}. Immutable.
 *
 * @param id            the balancer's request id (also sent as {@code X-Request-Id})
 * @param endpoint      the endpoint label ({@code generate}, {@code chat}, …)
 * @param model         the model as sent, or {@code ""}
 * @param backend       the backend's name, or {@code ""} when none was chosen
 * @param status        the HTTP status sent to the client (0 when the client left before one was sent)
 * @param queueWaitNs   time spent waiting in the scheduler's queue
 * @param overheadNs    arrival to request sent upstream, minus queue wait: the balancer's own cost
 * @param ttftNs        arrival to the first response chunk written to the client
 * @param totalNs       arrival to the last byte written (or to the abort)
 * @param timing        the final chunk's timing fields, or {@link TimingSample#EMPTY}
 * @param estPromptTokens   the prompt tokens estimated before dispatch (0 when not estimated)
 * @param estOutputTokens   the output tokens expected before dispatch (0 when not estimated)
 * @param outcome       how it ended ({@link Outcome}; its label is what the access log writes)
 * @param key           the name of the API key it came with, or {@code ""} (no keys file, or no known key)
 */
public record CompletedRequest(
        long id,
        String endpoint,
        String model,
        String backend,
        int status,
        long queueWaitNs,
        long overheadNs,
        long ttftNs,
        long totalNs,
        TimingSample timing,
        int estPromptTokens,
        int estOutputTokens,
        Outcome outcome,
        String key) {

    public CompletedRequest {
        key = key == null ? "" : key;
    }

    /** A request that came without an API key. */
    public CompletedRequest(long id, String endpoint, String model, String backend, int status, long queueWaitNs,
                            long overheadNs, long ttftNs, long totalNs, TimingSample timing, int estPromptTokens,
                            int estOutputTokens, Outcome outcome) {
        this(id, endpoint, model, backend, status, queueWaitNs, overheadNs, ttftNs, totalNs, timing, estPromptTokens,
                estOutputTokens, outcome, "");
    }
}

package io.ollamabalancer.schedule;

/**
 * What the scheduler predicted when it dispatched a request, for response headers and error tracking. Immutable.
 *
 * @param backend        the backend's name
 * @param serviceNanos   predicted time from dispatch to the end of the response
 * @param finishNanos    predicted end, on the scheduler's {@code nanoTime} clock
 * @param coldLoad       whether the model was expected to load (or reload) first
 * @param streams        streams on the backend once this one started, itself included
 * @param upfrontNanos   predicted time from dispatch to the first token: the load if cold, then the prefill
 */
public record Prediction(String backend, long serviceNanos, long finishNanos, boolean coldLoad, int streams,
                         long upfrontNanos) {
}

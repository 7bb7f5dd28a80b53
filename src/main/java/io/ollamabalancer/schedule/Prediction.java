package io.ollamabalancer.schedule;

/**
 * What the scheduler predicted when it dispatched a request, for response headers and error tracking. Immutable.
 *
 * @param backend        the backend's name
 * @param serviceNanos   predicted time from dispatch to the end of the response
 * @param finishNanos    predicted end, on the scheduler's {@code nanoTime} clock
 * @param coldLoad       whether the model was expected to load (or reload) first
 * @param streams        streams on the backend once this one started, itself included
 */
public record Prediction(String backend, long serviceNanos, long finishNanos, boolean coldLoad, int streams) {
}

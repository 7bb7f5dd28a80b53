package io.ollamabalancer.estimate;

/**
 * What a request is expected to cost before it runs: prompt tokens to prefill and output tokens to decode.
 * Immutable.
 *
 * @param promptTokens         estimated prompt tokens (template overhead included)
 * @param expectedOutputTokens expected generated tokens (the cap when one is set and smaller than the learned mean)
 */
public record RequestEstimate(int promptTokens, int expectedOutputTokens) {
    public static final RequestEstimate UNKNOWN = new RequestEstimate(0, 0);
}

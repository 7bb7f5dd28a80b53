package io.ollamabalancer.estimate;

/**
 * What a request is expected to cost before it runs: prompt tokens to prefill and output tokens to decode.
 * Immutable.
 *
 * @param promptTokens         estimated prompt tokens as the model will count them (template overhead included,
 *                             scaled by the ratio learned for the model)
 * @param expectedOutputTokens expected generated tokens: the mean of the model's learned length distribution,
 *                             truncated at the cap when one is set ({@code E[min(L, cap)]}); 0 for embeddings
 * @param outputCap            {@code num_predict} / {@code max_tokens}, or {@code -1} when unbounded
 * @param rawPromptTokens      the tokenizer's count (or the length-based estimate) plus the template overhead,
 *                             before the model's learned ratio; what that ratio is learned against
 * @param promptExact          whether {@code rawPromptTokens} came from the tokenizer rather than the text length
 * @param embedding            an embedding request: no decode phase, nothing learned about output lengths
 */
public record RequestEstimate(
        int promptTokens,
        int expectedOutputTokens,
        int outputCap,
        int rawPromptTokens,
        boolean promptExact,
        boolean embedding) {

    public static final RequestEstimate UNKNOWN = new RequestEstimate(0, 0);

    /** An estimate with only the two headline figures (unbounded output, length-based, not an embedding). */
    public RequestEstimate(int promptTokens, int expectedOutputTokens) {
        this(promptTokens, expectedOutputTokens, -1, promptTokens, false, false);
    }

    public boolean hasCap() {
        return outputCap >= 0;
    }

    public boolean isUnknown() {
        return promptTokens == 0 && expectedOutputTokens == 0 && rawPromptTokens == 0;
    }
}

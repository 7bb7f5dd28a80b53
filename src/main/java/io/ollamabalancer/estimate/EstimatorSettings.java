package io.ollamabalancer.estimate;

/**
 * Tunables of {@link RequestEstimator}. Immutable.
 *
 * @param exactInlineChars    prompts up to this many characters are tokenized at once; longer ones get the
 *                            length-based estimate first and the exact count later, off the caller's thread.
 *                            0 by default: the caller is an event loop, and even a short prompt costs the
 *                            tokenizer tens of microseconds
 * @param generateOverhead    template tokens around a generate prompt (Llama 3: begin-of-text and two headers)
 * @param chatBaseOverhead    template tokens of a chat besides its messages (begin-of-text, assistant header)
 * @param perMessageOverhead  template tokens per chat message (role header and end-of-turn)
 * @param imageTokens         tokens one attached image costs in the prompt (vision projectors: hundreds)
 * @param asciiCharsPerToken  length-based estimate: ASCII characters per token before calibration
 * @param denseTokensPerChar  length-based estimate: tokens per CJK-like character
 * @param otherTokensPerChar  length-based estimate: tokens per other non-ASCII character
 * @param outputPriorMedian   a model's output length median before anything was learned
 * @param outputHalfLife      samples after which an old output length counts half
 */
public record EstimatorSettings(
        int exactInlineChars,
        int generateOverhead,
        int chatBaseOverhead,
        int perMessageOverhead,
        int imageTokens,
        double asciiCharsPerToken,
        double denseTokensPerChar,
        double otherTokensPerChar,
        double outputPriorMedian,
        double outputHalfLife) {

    public static EstimatorSettings defaults() {
        return new EstimatorSettings(0, 10, 5, 5, 576, 4.0, 1.0, 0.35, 200, 1000);
    }

    /** A copy that tokenizes prompts of up to {@code chars} characters inline (0: never inline). */
    public EstimatorSettings withExactInlineChars(int chars) {
        return new EstimatorSettings(chars, generateOverhead, chatBaseOverhead, perMessageOverhead, imageTokens,
                asciiCharsPerToken, denseTokensPerChar, otherTokensPerChar, outputPriorMedian, outputHalfLife);
    }

    /** A copy whose models start from an output length median of {@code tokens}. */
    public EstimatorSettings withOutputPriorMedian(double tokens) {
        return new EstimatorSettings(exactInlineChars, generateOverhead, chatBaseOverhead, perMessageOverhead,
                imageTokens, asciiCharsPerToken, denseTokensPerChar, otherTokensPerChar, tokens, outputHalfLife);
    }
}

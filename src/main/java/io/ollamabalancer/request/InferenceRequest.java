package io.ollamabalancer.request;

/**
 * What routing and cost estimation need from one request body; the body itself is forwarded untouched.
 * Immutable and free of Netty types, so it may cross threads (client event loop → scheduler → dispatch).
 *
 * @param model            the model as the client sent it ({@code model}, else legacy {@code name}); {@code null} if absent
 * @param stream           whether the answer streams, after applying the endpoint family's default
 * @param maxOutputTokens  {@code options.num_predict} (native) or {@code max_tokens} (OpenAI); {@code -1} when unbounded
 * @param keepAlive        the raw {@code keep_alive} value as text (a number or a Go duration), {@code null} if absent
 * @param promptText       the text the model will prefill: generate prompt plus system/suffix, or every chat
 *                         message's text content joined by {@code '\n'}, or the embedding inputs
 * @param messageCount     number of chat messages (0 for generate/embed)
 * @param prefixHash       a hash of every chat message but the last (0 when fewer than two), for prompt-cache affinity
 * @param runnerOptionsKey load-time options that force a model reload when they differ (num_ctx, num_batch, num_gpu,
 *                         main_gpu, use_mmap, num_thread) as a canonical {@code k=v;k=v} string, {@code ""} when none
 * @param emptyPrompt      a generate with no prompt or a chat with no messages: Ollama's load/unload special case
 * @param imageCount       number of images attached (they cost prefill time too)
 */
public record InferenceRequest(
        String model,
        boolean stream,
        int maxOutputTokens,
        String keepAlive,
        String promptText,
        int messageCount,
        long prefixHash,
        String runnerOptionsKey,
        boolean emptyPrompt,
        int imageCount) {

    /** This request naming {@code other} as its model (an alias resolved to its target). */
    public InferenceRequest withModel(String other) {
        return new InferenceRequest(other, stream, maxOutputTokens, keepAlive, promptText, messageCount, prefixHash,
                runnerOptionsKey, emptyPrompt, imageCount);
    }

    /** True when {@code keep_alive} asks to unload the model (0, "0", "0s", …). */
    public boolean unloadRequested() {
        if (keepAlive == null) {
            return false;
        }
        String k = keepAlive.trim();
        return k.equals("0") || k.equals("0.0") || k.matches("0+(\\.0+)?(ns|us|µs|ms|s|m|h)");
    }
}

package io.ollamabalancer.request;

/**
 * Which JSON shape a request body has, so the parser knows where the model, the prompt text and the output cap
 * live. Stateless.
 */
public enum BodyShape {
    /** {@code /api/generate}: {@code prompt}, {@code system}, {@code suffix}, {@code options.num_predict}. */
    GENERATE(true),
    /** {@code /api/chat}: {@code messages[].content}, {@code options.num_predict}. */
    CHAT(true),
    /** {@code /api/embed}: {@code input} (string or array of strings). */
    EMBED(false),
    /** {@code /api/embeddings} (legacy): {@code prompt}. */
    EMBEDDINGS(false),
    /** {@code /v1/chat/completions}: {@code messages[].content} (string or text parts), {@code max_tokens}. */
    OPENAI_CHAT(false),
    /** {@code /v1/completions}: {@code prompt} (string), {@code max_tokens}. */
    OPENAI_COMPLETION(false),
    /** {@code /v1/embeddings}: {@code input}. */
    OPENAI_EMBED(false),
    /** Only the model ({@code model}, or legacy {@code name}) matters: show, pull, delete, create, push. */
    MODEL_ONLY(true);

    private final boolean streamsByDefault;

    BodyShape(boolean streamsByDefault) {
        this.streamsByDefault = streamsByDefault;
    }

    /** What a missing {@code stream} field means: true on native generate/chat/pull, false on {@code /v1} and embed. */
    public boolean streamsByDefault() {
        return streamsByDefault;
    }

    public boolean isEmbedding() {
        return this == EMBED || this == EMBEDDINGS || this == OPENAI_EMBED;
    }
}

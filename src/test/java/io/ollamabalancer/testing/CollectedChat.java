package io.ollamabalancer.testing;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A LangChain4j streaming handler that keeps every partial response and completes {@link #done()} with the final
 * one (or its error). The library calls it from its own threads; the list and the future are thread-safe.
 */
public final class CollectedChat implements StreamingChatResponseHandler {
    private final List<String> parts = new CopyOnWriteArrayList<>();
    private final CompletableFuture<ChatResponse> done = new CompletableFuture<>();

    /** The partial responses so far, in arrival order. */
    public List<String> parts() {
        return parts;
    }

    /** Completes with the whole response, or exceptionally with the library's error. */
    public CompletableFuture<ChatResponse> done() {
        return done;
    }

    @Override
    public void onPartialResponse(String partial) {
        parts.add(partial);
    }

    @Override
    public void onCompleteResponse(ChatResponse response) {
        done.complete(response);
    }

    @Override
    public void onError(Throwable error) {
        done.completeExceptionally(error);
    }
}

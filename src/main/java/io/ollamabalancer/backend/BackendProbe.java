package io.ollamabalancer.backend;

import java.util.concurrent.CompletableFuture;

/**
 * Fetches a small JSON document from a backend ({@code /api/tags}, {@code /api/ps}, {@code /api/version}).
 * Implemented by the upstream layer; must never block the caller.
 */
public interface BackendProbe {

    /** A completed response: its status and body. */
    record Reply(int status, byte[] body) {
        public boolean ok() {
            return status == 200;
        }
    }

    /** GETs {@code path} from {@code backend}; completes exceptionally on connection failure or timeout. */
    CompletableFuture<Reply> get(Backend backend, String path);
}
